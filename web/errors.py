"""One table from errors to answers, installed once in the app: domain refusals and backing-service faults.

The intake is a plugin router of the same app, so its errors are answered here too. A domain error answers
`{"detail": message}`, or FastAPI's `[{"loc", "msg", "type"}]` for Invalid; a fault (the database or the broker
restarting) answers 503 with Retry-After instead of 500; a websocket is closed with 1013 (try again later).
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Any, cast

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request
from starlette.types import ExceptionHandler
from starlette.websockets import WebSocket

from dispatch import errors
from dispatch.access.http_auth import CHALLENGE
from dispatch.db import DATABASE_FAULTS

log = logging.getLogger(__name__)

FAULT_RETRY_AFTER = 5
"""Seconds a client waits before retrying after a fault: about what a database or broker restart takes."""

FAULT_DETAIL = "a backing service is unavailable; retry shortly"

TRY_AGAIN_LATER = 1013
"""The websocket close code for a passing fault: reconnect in a while."""

INTERNAL_ERROR = 1011
"""The websocket close code for any other error, as the server closes on an unhandled one."""

FAULTS: tuple[type[Exception], ...] = (
    *DATABASE_FAULTS,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
)
"""Backing services that are down or restarting: the client should retry, the server has no bug."""

STATUS: dict[type[Exception], int] = {
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.Invalid: 422,
    errors.Locked: 423,
    errors.TooMany: 429,
    errors.Unavailable: 503,
    **dict.fromkeys(FAULTS, 503),
}
"""The answer's status for each kind of error; an error takes the first of its classes (MRO) listed here."""

HEADERS: dict[type[Exception], dict[str, str]] = {errors.Unauthorized: CHALLENGE}
"""Headers a kind of error answers with (besides Retry-After for errors.RetryLater and the faults)."""


def install(app: FastAPI) -> None:
    """Answer every kind of error of the table with one handler, and request validation with `invalid_request`."""
    handler = cast(ExceptionHandler, answer)
    for exc_type in STATUS:
        app.add_exception_handler(exc_type, handler)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, unreadable_body)


def kind_of(exc: Exception) -> type[Exception]:
    """The first of the error's classes that the table lists: it decides the status and the extra headers."""
    return next(cls for cls in type(exc).__mro__ if issubclass(cls, Exception) and cls in STATUS)


async def answer(conn: HTTPConnection, exc: Exception) -> JSONResponse | None:
    """The table's answer to `exc`; a websocket is closed instead (1013 for a fault)."""
    kind = kind_of(exc)
    status = STATUS[kind]
    fault = not isinstance(exc, errors.DomainError)
    if status == 503:
        log.warning("backing service unavailable on %s: %s: %s", conn.url.path, type(exc).__name__, exc)
    if isinstance(conn, WebSocket):
        code = TRY_AGAIN_LATER if status == 503 else INTERNAL_ERROR
        with contextlib.suppress(RuntimeError):  # already closed, or the client left
            await conn.close(code=code, reason=FAULT_DETAIL if fault else str(exc)[:120])
        return None
    headers = dict(HEADERS.get(kind, {}))
    if fault:
        headers["Retry-After"] = str(FAULT_RETRY_AFTER)
    elif isinstance(exc, errors.RetryLater):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"detail": FAULT_DETAIL if fault else detail(exc)}, status_code=status, headers=headers)


def detail(exc: Exception) -> Any:
    """The message, or for Invalid one entry per field at fault in FastAPI's shape."""
    if isinstance(exc, errors.Invalid):
        return [{"loc": list(loc), "msg": msg, "type": exc.kind} for loc, msg in exc.fields]
    return str(exc)


# json.loads lets `1e400`, `NaN` and `"\ud800"` into a body; FastAPI's own handler echoes them and fails.
async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 for a request that fails validation, with unwritable values spelled out."""
    found = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _printable(jsonable_encoder(found))}, status_code=422)


UNREADABLE = "There was an error parsing the body"
"""FastAPI's 400 for a body it cannot decode at all (bytes that are not UTF-8)."""


async def unreadable_body(request: Request, exc: Exception) -> Any:
    """A body FastAPI cannot decode answers 422 naming the body, like any other body at fault."""
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 400 and exc.detail == UNREADABLE:
        fault = {"loc": ["body"], "msg": "the body is not UTF-8 JSON", "type": "json_invalid"}
        return JSONResponse({"detail": [fault]}, status_code=422)
    return await http_exception_handler(request, cast(StarletteHTTPException, exc))


def _printable(value: Any) -> Any:
    """A validation error with what JSON cannot write (infinities, NaN, lone surrogates) spelled out as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value
