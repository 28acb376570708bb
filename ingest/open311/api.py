"""The Open311 GeoReport v2 server at /open311/v2: discovery, services, requests and tokens, in JSON or XML by
the suffix, with the spec's error documents. Reads are public; a POST needs a client's api_key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dispatch.access import api_keys
from dispatch.access.http_auth import address, guard_of, rate_limit
from dispatch.cases import public_requests
from dispatch.cases.public_requests import Search
from dispatch.db import DATABASE_FAULTS
from dispatch.errors import Conflict, NotFound, RetryLater, TooLarge, TooMany
from ingest.api import count_events, hand_over
from ingest.open311 import documents
from ingest.open311.documents import Format
from ingest.open311.form import BadRequest, citizen_report
from ingest.open311.requests_view import service_request
from ingest.open311.services import Service, catalogue

router = APIRouter(prefix="/open311", tags=["open311"])
V2 = "/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01 00:00"
"""When the service list last changed (the categories)."""
MAX_SPAN = timedelta(days=90)
FAULTS: tuple[type[BaseException], ...] = (KafkaError, TimeoutError, OSError, *DATABASE_FAULTS)
ERRORS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
XML_OR_JSON: dict[str, dict[str, Any]] = {"application/json": {}, "text/xml": {}}


def _refusal(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERRORS_SCHEMA}, "text/xml": {}}}


READ_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "the document, in the format of the suffix", "content": XML_OR_JSON},
    400: _refusal("a parameter at fault, named in the description"),
    404: _refusal("no such service, request, token, jurisdiction or format"),
    429: _refusal("too many reads from this address; see Retry-After"),
    503: _refusal("a backing service is restarting; see Retry-After"),
}
POST_ANSWERS = {**READ_ANSWERS, 403: _refusal("a missing, revoked or unknown api_key")}
FORM_FIELDS = ["api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email"]
FORM_FIELDS += ["device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url"]
POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code", "lat", "long"],
                    "properties": {name: {"type": "string"} for name in FORM_FIELDS}
                    | {"attribute[severity]": {"type": "string", "enum": ["low", "normal", "high", "urgent"]}},
                }
            }
        },
    }
}


class Refused(Exception):
    """An answer of the spec's error kind."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status


async def _answer(request: Request, fmt: str, work: Callable[[Format], Awaitable[Response]]) -> Response:
    """Run `work` in the chosen format, turning every refusal and fault into the spec's error document."""
    try:
        chosen = Format(fmt)
    except ValueError:
        return documents.errors(Format.JSON, 404, f"format: {fmt!r} is not served; use .json or .xml")
    try:
        return await work(chosen)
    except Refused as exc:
        return documents.errors(chosen, exc.status, str(exc))
    except BadRequest as exc:
        return documents.errors(chosen, 400, str(exc))
    except (LookupError, NotFound) as exc:
        return documents.errors(chosen, 404, str(exc))
    except (Conflict, TooLarge) as exc:
        return documents.errors(chosen, 400, str(exc))
    except RetryLater as exc:
        status = 429 if isinstance(exc, TooMany) else 503
        return documents.errors(chosen, status, str(exc), {"Retry-After": str(exc.retry_after)})
    except FAULTS:
        return documents.errors(chosen, 503, "a backing service is restarting; try again", {"Retry-After": "5"})


def _services(request: Request) -> dict[str, Service]:
    """The services of the category table the intake holds now."""
    return catalogue(request.app.state.intake_categories.table)


def _limit_reads(request: Request) -> None:
    rate_limit(request, guard_of(request).settings.rate_open311_per_address, "Open311 reads", address(request))


async def _area(request: Request, jurisdiction_id: str | None) -> str:
    """The unit code prefix a jurisdiction_id names ('' without one); 404 for an unknown one."""
    if not jurisdiction_id:
        return ""
    if not await public_requests.unit_exists(request.app.state.pool, jurisdiction_id):
        raise LookupError(f"jurisdiction_id: {jurisdiction_id!r} is no county or township here")
    return jurisdiction_id


@router.get("/discovery.{fmt}", responses=READ_ANSWERS, summary="Open311 service discovery")
@router.get(V2 + "/discovery.{fmt}", responses=READ_ANSWERS, summary="Open311 service discovery (under v2)")
async def discovery(request: Request, fmt: str) -> Response:
    """Where the GeoReport v2 endpoint is, its formats, and how to get a key."""

    async def work(chosen: Format) -> Response:
        _limit_reads(request)
        endpoint = {
            "specification": SPECIFICATION,
            "url": str(request.base_url).rstrip("/") + router.prefix + V2,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
        body = {
            "changeset": CHANGESET,
            "contact": "县综合指挥调度中心 The county's command centre",
            "key_service": "api_key 由县管理员发放 Keys are issued by the county administrator (gridctl open311 add)",
            "endpoints": [endpoint],
        }
        return documents.render(chosen, "discovery", body)

    return await _answer(request, fmt, work)


@router.get(V2 + "/services.{fmt}", responses=READ_ANSWERS, summary="GET Service List")
async def services(request: Request, fmt: str, jurisdiction_id: str | None = None) -> Response:
    """The request types: the 小类 of the category table, in Chinese with English, grouped by 大类."""

    async def work(chosen: Format) -> Response:
        _limit_reads(request)
        await _area(request, jurisdiction_id)
        return documents.render(chosen, "services", [s.listed() for s in _services(request).values()])

    return await _answer(request, fmt, work)


@router.get(V2 + "/services/{service_code}.{fmt}", responses=READ_ANSWERS, summary="GET Service Definition")
async def definition(request: Request, service_code: str, fmt: str, jurisdiction_id: str | None = None) -> Response:
    """The attributes a request of this type may carry."""

    async def work(chosen: Format) -> Response:
        _limit_reads(request)
        await _area(request, jurisdiction_id)
        service = _services(request).get(service_code)
        if service is None:
            raise LookupError(f"service_code: {service_code!r} is not a service of this endpoint")
        return documents.render(chosen, "service_definition", service.definition())

    return await _answer(request, fmt, work)


@router.post(V2 + "/requests.{fmt}", responses=POST_ANSWERS, openapi_extra=POST_BODY, summary="POST Service Request")
async def create(request: Request, fmt: str) -> Response:
    """File a request: it enters the same intake as every event (source open311), so it is located, routed and
    deduplicated; the answer is a token that becomes the request's id once routed."""

    async def work(chosen: Format) -> Response:
        form = {k: v for k, v in (await _form(request)).items() if isinstance(v, str)}
        key = form.get("api_key") or request.query_params.get("api_key")
        client = await api_keys.holder(request.app.state.pool, key) if key else None
        if client is None:
            raise Refused(403, "api_key: missing, unknown or revoked; ask the county administrator for one")
        count_events(request, client)
        await _area(request, form.get("jurisdiction_id"))
        event = citizen_report(form, client.username, set(_services(request)), datetime.now(UTC))
        await public_requests.record_token(request.app.state.pool, event.event_id, client.username)
        await hand_over(request, event)
        notice = "已受理，将按网格分派处置 Received; it is routed to the grid's staff"
        body = [{"token": str(event.event_id), "service_notice": notice, "account_id": form.get("account_id")}]
        return documents.render(chosen, "service_requests", body)

    return await _answer(request, fmt, work)


async def _form(request: Request) -> dict[str, Any]:
    """The urlencoded (or multipart) form; an unreadable body is a 400."""
    try:
        return dict(await request.form())
    except (ValueError, UnicodeDecodeError, AssertionError) as exc:
        raise BadRequest(f"request: the body is not a readable form ({exc})") from None


def _times(start_date: str | None, end_date: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The window of GET requests: the given dates, else the 90 days up to now; never more than 90 days."""
    end = _w3("end_date", end_date) or now
    start = _w3("start_date", start_date) or end - MAX_SPAN
    if start > end:
        raise BadRequest("start_date: after end_date")
    if end - start > MAX_SPAN:
        raise BadRequest("start_date: the range may not span more than 90 days")
    return start, end


def _w3(name: str, raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name}: {raw!r} is not a W3C date-time like 2026-01-01T00:00:00Z") from None
    if at.tzinfo is None:
        raise BadRequest(f"{name}: needs a timezone (Z or an offset)")
    return at


def _ids(raw: str) -> tuple[UUID, ...]:
    try:
        return tuple(UUID(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError:
        raise BadRequest("service_request_id: comma-separated request ids (UUIDs)") from None


def _list(name: str, raw: str | None, allowed: set[str]) -> tuple[str, ...]:
    values = tuple(v.strip() for v in (raw or "").split(",") if v.strip())
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise BadRequest(f"{name}: {', '.join(unknown)} not known")
    return values


@router.get(V2 + "/requests.{fmt}", responses=READ_ANSWERS, summary="GET Service Requests")
async def requests(
    request: Request,
    fmt: str,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: Annotated[str | None, Query(description="open, closed, or both comma-separated")] = None,
) -> Response:
    """Citizens' requests, newest first: at most 1,000 and 90 days; ids override the other filters."""

    async def work(chosen: Format) -> Response:
        _limit_reads(request)
        area = await _area(request, jurisdiction_id)
        services_by_code = _services(request)
        if service_request_id:
            search = Search(area=area, ids=_ids(service_request_id))
        else:
            start, end = _times(start_date, end_date, datetime.now(UTC))
            codes = _list("service_code", service_code, set(services_by_code))
            statuses = _list("status", status, {"open", "closed"})
            search = Search(area, (), codes, statuses, start, end)
        rows = await public_requests.find(request.app.state.pool, search)
        return documents.render(chosen, "service_requests", [service_request(r, services_by_code) for r in rows])

    return await _answer(request, fmt, work)


@router.get(V2 + "/requests/{service_request_id}.{fmt}", responses=READ_ANSWERS, summary="GET Service Request")
async def one_request(
    request: Request, service_request_id: str, fmt: str, jurisdiction_id: str | None = None
) -> Response:
    """One citizen's request."""

    async def work(chosen: Format) -> Response:
        _limit_reads(request)
        area = await _area(request, jurisdiction_id)
        try:
            ids = (UUID(service_request_id),)
        except ValueError:
            raise LookupError(f"service_request_id: {service_request_id!r} not found") from None
        rows = await public_requests.find(request.app.state.pool, Search(area=area, ids=ids))
        if not rows:
            raise LookupError(f"service_request_id: {service_request_id} not found")
        return documents.render(chosen, "service_requests", [service_request(rows[0], _services(request))])

    return await _answer(request, fmt, work)


@router.get(V2 + "/tokens/{token}.{fmt}", responses=READ_ANSWERS, summary="GET service_request_id from a token")
async def token(request: Request, token: str, fmt: str, jurisdiction_id: str | None = None) -> Response:
    """The request id a token became; null while the request is being routed or waits for a person to route it."""

    async def work(chosen: Format) -> Response:
        _limit_reads(request)
        await _area(request, jurisdiction_id)
        try:
            issued, case_id = await public_requests.token_case(request.app.state.pool, UUID(token))
        except ValueError:
            issued, case_id = False, None
        if not issued:
            raise LookupError(f"token: {token!r} not found")
        body = [{"service_request_id": None if case_id is None else str(case_id), "token": token}]
        return documents.render(chosen, "service_requests", body)

    return await _answer(request, fmt, work)
