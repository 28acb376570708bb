"""One table answers every domain error and every backing-service fault, with the bodies the endpoints always gave."""

from __future__ import annotations

import logging
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from asyncpg import exceptions as pg
from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect

from core.vocabulary import Role
from dispatch import errors
from dispatch.access.rate_limits import RateLimited
from dispatch.access.sessions import AccountCheck, AccountState
from dispatch.access.tokens import BadToken
from dispatch.access.users import LoginRefused, RefreshRefused, User, UserError
from dispatch.cases.record import CommandRefused, NotYours
from dispatch.media.sniff import EmptyMedia, MediaError, MediaTooLarge, UnsupportedMedia
from dispatch.people import store as people_store
from dispatch.queues.resolution import CannotReplay, NotQueued
from dispatch.redistricting.store import PlanAlreadyApplied
from dispatch.redistricting.transfers import NoSuccessor, StaleSnapshot
from dispatch.redistricting.validate import ItemError, PlanInvalid
from dispatch.registry.boundary_import import BadBoundaryFile
from dispatch.registry.division_import import BadDivisionFile
from dispatch.registry.rules_store import RuleNotFound
from dispatch.routing.rules import NoRoute
from tests.unit.factories import TOWN, VILLAGE, event_body
from web import errors as table
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette would rather have httpx2, which is not installed
    from starlette.testclient import TestClient

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CHALLENGE = {"www-authenticate": "Bearer"}


def _client(exc: BaseException) -> TestClient:
    """A tiny app with the table installed, whose one endpoint and one websocket raise `exc`."""
    app = FastAPI()
    table.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def _get(exc: BaseException) -> Any:
    return _client(exc).get("/boom")


@pytest.mark.parametrize(
    ("exc", "status", "body", "headers"),
    [
        (errors.NotFound("case 1 not found"), 404, "case 1 not found", {}),
        (RuleNotFound("no current rule 7"), 404, "no current rule 7", {}),
        (NotQueued("no unresolved item 3"), 404, "no unresolved item 3", {}),
        (people_store.NotFound("nobody holds no post on 1"), 404, "nobody holds no post on 1", {}),
        (errors.Forbidden("reporter: you may list only your own reports"), 403, None, {}),
        (NotYours("only the assignee may start"), 403, "only the assignee may start", {}),
        (errors.Conflict("the registry changed meanwhile; try again"), 409, None, {}),
        (CommandRefused("cannot close a case that is dispatched"), 409, None, {}),
        (CannotReplay("the record is not valid UTF-8"), 409, None, {}),
        (people_store.Conflict("person p1 exists"), 409, None, {}),
        (PlanAlreadyApplied("merge-two"), 409, "plan merge-two was already applied", {}),
        (errors.Unauthorized("sign in first: Authorization: Bearer <token>"), 401, None, CHALLENGE),
        (BadToken("access token expired; refresh it"), 401, None, CHALLENGE),
        (LoginRefused("wrong username or password"), 401, None, CHALLENGE),
        (RefreshRefused("refresh token already used"), 401, None, CHALLENGE),
        (MediaTooLarge("media larger than 10 bytes"), 413, None, {}),
        (UnsupportedMedia("declared as image/jpeg but the bytes are image/png"), 415, None, {}),
        (RateLimited("sign-in attempts from this address", 7), 429, None, {"retry-after": "7"}),
        (errors.Unavailable("the event broker is unavailable; retry with the same event_id"), 503, None, {}),
    ],
)
def test_a_domain_error_answers_its_status_with_its_message(
    exc: Exception, status: int, body: str | None, headers: dict[str, str]
) -> None:
    reply = _get(exc)
    assert reply.status_code == status
    assert reply.json() == {"detail": body or str(exc)}
    for name, value in headers.items():
        assert reply.headers[name] == value
    if not isinstance(exc, errors.Unauthorized):
        assert "www-authenticate" not in reply.headers


def test_rate_limits_and_the_broker_say_when_to_retry() -> None:
    assert _get(RateLimited("events from this account", 12)).json() == {
        "detail": "too many events from this account; retry in 12 s"
    }
    assert _get(errors.Unavailable("the event broker is unavailable")).headers["retry-after"] == "5"


@pytest.mark.parametrize(
    ("exc", "entries"),
    [
        (errors.Invalid("from must be before to", ("query", "from")), [(["query", "from"], "value_error")]),
        (errors.Invalid("must not contain NUL", ("body", "username")), [(["body", "username"], "value_error")]),
        (
            errors.Invalid("no stored media ab: upload it first", ("body", "evidence", 0, "sha256")),
            [(["body", "evidence", 0, "sha256"], "value_error")],
        ),
        (EmptyMedia("the upload is empty"), [(["body"], "value_error")]),
        (
            people_store.Refused([(("body", "grids", 1), "grid x does not exist"), (("body", "unit_code"), "no")]),
            [(["body", "grids", 1], "value_error.reference"), (["body", "unit_code"], "value_error.reference")],
        ),
        (
            PlanInvalid(["item 2 (merge): unit 5108 does not exist", "510822100: gap not covered"]),
            [(["body", "items", 1], "plan_invalid"), (["body"], "plan_invalid")],
        ),
    ],
)
def test_invalid_input_answers_fastapis_shape_naming_each_field(
    exc: errors.Invalid, entries: list[tuple[list[Any], str]]
) -> None:
    reply = _get(exc)
    assert reply.status_code == 422 and "retry-after" not in reply.headers
    detail = reply.json()["detail"]
    assert [(d["loc"], d["type"]) for d in detail] == entries
    assert [d["msg"] for d in detail] == [msg for _, msg in exc.fields]
    assert exc.loc == tuple(entries[0][0])


def test_an_invalid_error_names_one_field_by_default_the_body() -> None:
    exc = errors.Invalid("the upload is empty")
    assert exc.loc == ("body",) and exc.fields == [(("body",), "the upload is empty")]
    assert str(exc) == "the upload is empty"


FAULTS = [
    pg.CannotConnectNowError("the database system is starting up"),
    pg.AdminShutdownError("terminating connection due to administrator command"),
    pg.CrashShutdownError("terminating connection because of crash of another server process"),
    pg.TooManyConnectionsError("sorry, too many clients already"),
    pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("pool is closing"),
    asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released back to the pool"),
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    ConnectionResetError("reset by peer"),
    OSError("Multiple exceptions: [Errno 111] Connect call failed"),
    TimeoutError(),  # what asyncio.wait_for raises when acquiring a connection takes too long
    KafkaConnectionError("Unable to bootstrap from [('localhost', 9092)]"),
    KafkaTimeoutError(),
    NodeNotReadyError("node 1 not ready"),
]


@pytest.mark.parametrize("exc", FAULTS, ids=lambda e: type(e).__name__)
def test_a_backing_service_fault_answers_503_with_retry_after_and_one_warning(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=table.__name__):
        reply = _get(exc)
    assert reply.status_code == 503
    assert reply.headers["retry-after"] == str(table.FAULT_RETRY_AFTER)
    assert reply.json() == {"detail": "a backing service is unavailable; retry shortly"}
    warnings = [r for r in caplog.records if r.name == table.__name__]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "/boom" in warnings[0].getMessage() and type(exc).__name__ in warnings[0].getMessage()


@pytest.mark.parametrize("exc", [FAULTS[0], FAULTS[8], FAULTS[12]], ids=lambda e: type(e).__name__)
def test_a_fault_on_the_websocket_closes_it_with_try_again_later(exc: Exception) -> None:
    with _client(exc).websocket_connect("/ws") as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    assert closed.value.code == table.TRY_AGAIN_LATER == 1013


def test_a_domain_error_on_the_websocket_closes_it_as_an_unhandled_error_did() -> None:
    with _client(errors.Forbidden("no")).websocket_connect("/ws") as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    assert closed.value.code == 1011 and closed.value.reason == "no"


@pytest.mark.parametrize("exc", [RuntimeError("a bug"), MediaError("a refusal of no listed kind"), KeyError("x")])
def test_errors_outside_the_table_stay_server_errors(exc: Exception) -> None:
    assert _get(exc).status_code == 500


def test_request_validation_spells_out_what_json_cannot_write() -> None:
    app = FastAPI()
    table.install(app)

    @app.post("/n")
    async def n(value: dict[str, int]) -> None:
        """Takes integers only."""

    body = b'{"a": NaN, "b": 1e400, "c": "\\ud800"}'
    reply = TestClient(app).post("/n", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 422
    inputs = {d["loc"][-1]: d["input"] for d in reply.json()["detail"]}
    assert inputs == {"a": "nan", "b": "inf", "c": "\\ud800"}


DOMAIN_ERRORS = [
    NoRoute,
    NoSuccessor,
    StaleSnapshot,
    ItemError,
    BadBoundaryFile,
    BadDivisionFile,
    UserError,
    PlanInvalid,
    people_store.Refused,
    EmptyMedia,
    MediaTooLarge,
    UnsupportedMedia,
    RateLimited,
]


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_has_one_base_and_a_status(cls: type[Exception]) -> None:
    assert issubclass(cls, errors.DomainError)
    assert table.STATUS[next(k for k in cls.__mro__ if k in table.STATUS)] in {401, 404, 409, 413, 415, 422, 423, 429}


def test_callers_catching_the_old_bases_still_catch_them() -> None:
    assert issubclass(NotQueued, LookupError) and issubclass(CannotReplay, ValueError)
    assert issubclass(UserError, ValueError) and issubclass(NotYours, CommandRefused)
    assert issubclass(LoginRefused, errors.Unauthorized) and RateLimited("x", 3).retry_after == 3
    assert BadBoundaryFile(["a", "b"]).problems == ["a", "b"] and PlanInvalid(["e"]).errors == ["e"]


class _EveryAccountServes(AccountCheck):
    """The account check as if every account were enabled at epoch 0 (the database is down in this test)."""

    async def state(self, pool: Any, username: str) -> AccountState | None:
        return AccountState(0, True, frozenset())


class _DownPool:
    """A pool whose database is restarting."""

    def acquire(self) -> Any:
        raise pg.CannotConnectNowError("the database system is starting up")


def test_the_web_app_answers_its_routes_and_the_intakes_through_the_table() -> None:
    app = create_app()
    assert all(app.exception_handlers[kind] is table.answer for kind in table.STATUS)
    app.state.pool = _DownPool()
    app.state.guard.accounts = _EveryAccountServes(1.0, timedelta(minutes=15))
    client = TestClient(app, raise_server_exceptions=False)  # not entered: no lifespan, no database or broker
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["retry-after"] == "5"
    anonymous = client.get("/api/v1/auth/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json() == {"detail": "sign in first: Authorization: Bearer <token>"}
    now = datetime.now(UTC)
    worker = User("gm-x", Role.GRID_MEMBER, VILLAGE, "gm-x", None)
    posing = client.post("/api/v1/events", json=event_body(), headers=_bearer(app, worker, now))
    assert posing.status_code == 403 and posing.json()["detail"].startswith("reporter.id: gm-510822100201001 is not")
    dispatcher = User("disp-x", Role.DISPATCHER, TOWN, "disp-x", None)
    backwards = {"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()}
    reply = client.get("/api/v1/metrics", params=backwards, headers=_bearer(app, dispatcher, now))
    assert reply.status_code == 422
    assert reply.json() == {
        "detail": [{"loc": ["query", "from"], "msg": "from must be before to", "type": "value_error"}]
    }
    assert client.get("/api/v1/queues/unrouted", headers=_bearer(app, worker, now)).status_code == 403


def _bearer(app: FastAPI, user: User, now: datetime) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.guard.tokens.issue(user, now)}"}
