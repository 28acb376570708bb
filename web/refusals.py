"""The refusals every operation can answer, declared in the OpenAPI schema from what the route depends on.

A route declares only what is its own (a 409, a 423); the answers every route of a kind gives are implied here:
401 and 403 behind a token, 404 for a path that names something, 413 and 422 for a body or parameters, 429 for
the rate-limited doors, and 503 for a restarting backing service. Every refusal has the body `web/errors.py`
writes: a message, or one entry per field at fault.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class FieldFault(BaseModel):
    """One field at fault: where it is, what is wrong, and the kind of error."""

    loc: list[str | int]
    msg: str
    type: str


class Refusal(BaseModel):
    """A refused request: a message, or one entry per field at fault."""

    detail: str | list[FieldFault]


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}
REFUSAL = "Refusal"
WAIT = frozenset({"423", "429", "503"})
RATE_LIMITED_TAGS = frozenset({"intake", "media"})
"""Doors with rate limits of their own: the intake's (per account and per address) and the media uploads."""

SIGNED_IN = {
    401: "not signed in, or the token expired, was revoked, or its account no longer serves",
    403: "outside the caller's role or area",
}
NAMED = {404: "nothing of that id in the caller's area"}
WITH_INPUT = {422: "a field at fault, named in `loc`"}
WITH_BODY = {413: "the body is larger than this operation accepts"}
LIMITED = {429: "too many requests; see Retry-After"}
FAULT = {503: "a backing service (database or broker) is restarting; see Retry-After"}


def declare(app: FastAPI) -> None:
    """Serve the app's schema with the implied refusals of every operation added."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        return declared(build())

    app.openapi = openapi  # type: ignore[method-assign]


def declared(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the implied refusals added to every operation (what an operation declares itself wins)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if REFUSAL in components:
        return schema
    model = Refusal.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model.pop("$defs"))
    components[REFUSAL] = model
    for operation in (op for ops in schema.get("paths", {}).values() for op in ops.values()):
        responses = operation.setdefault("responses", {})
        for status, description in _implied(operation).items():
            responses.setdefault(str(status), {"description": description})
        for status, response in responses.items():
            if status.isdigit() and int(status) >= 400:
                _refusal_body(status, response)
    return schema


def _implied(operation: dict[str, Any]) -> dict[int, str]:
    """The statuses an operation can answer besides its own, with what each means."""
    statuses = dict(FAULT)
    if operation.get("security"):
        statuses |= SIGNED_IN
    where = {parameter["in"] for parameter in operation.get("parameters", [])}
    if "path" in where:
        statuses |= NAMED
    body = "requestBody" in operation
    if where or body:
        statuses |= WITH_INPUT
    if body:
        statuses |= WITH_BODY
    if body and RATE_LIMITED_TAGS & set(operation.get("tags", [])):
        statuses |= LIMITED
    return statuses


def _refusal_body(status: str, response: dict[str, Any]) -> None:
    """The refusal's body and, where a client must wait, its Retry-After header."""
    content = response.setdefault("content", {}).setdefault("application/json", {})
    content.setdefault("schema", {"$ref": f"#/components/schemas/{REFUSAL}"})
    if status in WAIT:
        response.setdefault("headers", RETRY_AFTER)
