"""The Open311 GeoReport v2 server on the real stack, driven by real clients from PyPI: civicbot posts, georeport
reads, and every answer is checked against the specification's schemas."""

from __future__ import annotations

import asyncio
import subprocess
import xml.etree.ElementTree as ET
from typing import Any

import asyncpg
import httpx
import pytest
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

from tests.integration.auth import as_person
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, wait_for
from tests.open311_schemas import ERRORS, REQUESTS, SERVICE_DEFINITION, SERVICES, problems

pytestmark = pytest.mark.integration
LON, LAT = 105.2, 32.6
PHONE = "13812345678"


def gridctl(stack: LiveStack, *args: str) -> str:
    """A gridctl command's standard output and error (it must succeed)."""
    done = subprocess.run(
        [str(VENV_BIN / "gridctl"), *args], env=stack.env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def api_key(live_stack: LiveStack) -> str:
    """A hotline client's key, made with gridctl (shown once, as the last line)."""
    return key_from(
        gridctl(live_stack, "open311", "add", "hotline-12345", "--unit", "510822", "--label", "县12345热线")
    )


def key_from(output: str) -> str:
    """The key among a command's output lines."""
    return next(line for line in output.splitlines() if line.startswith("o311_"))


def base(stack: LiveStack) -> str:
    return f"{stack.base_url}/open311/v2"


def poster(stack: LiveStack) -> Open311Client:
    """civicbot's client on our endpoint (it refuses to send unless told to, as a careful client should)."""
    return Open311Client(Endpoint(id="gridcmd", name="青川县", base_url=base(stack), write=True))


async def file_request(stack: LiveStack, key: str, service_code: str = "0102", **fields: Any) -> dict[str, Any]:
    """POST a request with civicbot; its answer's first element."""
    form = {"lat": LAT, "lng": LON, "description": f"村口垃圾无人清运，联系电话{PHONE}", **fields}
    client = poster(stack)
    sent = await asyncio.to_thread(
        lambda: client.create_request(service_code, dry_run=False, confirm="SEND", api_key=key, **form)
    )
    answer: list[dict[str, Any]] = sent.response
    return answer[0]


async def request_id_of(stack: LiveStack, token: str) -> str:
    """Wait until the stream processors turned the token's request into a case; its id."""
    client = poster(stack)

    async def routed() -> str | None:
        answer = await asyncio.to_thread(client.get_token, token)
        assert problems({"type": "array"}, answer) == []
        value: str | None = answer[0]["service_request_id"]
        return value

    return await wait_for(routed, f"request of token {token}", within=30)


async def test_a_hotline_files_a_request_and_the_public_reads_it_back(
    live_stack: LiveStack, api_key: str, db: asyncpg.Pool
) -> None:
    filed = await file_request(
        live_stack,
        api_key,
        first_name="张",
        last_name="三",
        phone=PHONE,
        account_id="u-7",
        attributes={"severity": "high"},
    )
    assert filed["token"] and "service_request_id" not in filed
    request_id = await request_id_of(live_stack, filed["token"])

    reader = GeoReport(base(live_stack))
    one = await asyncio.to_thread(reader.get_service_request, request_id)
    assert problems(REQUESTS, [one]) == []
    assert one["status"] == "open" and one["service_code"] == "0102"
    assert one["status_notes"].startswith("分类转办")
    assert one["agency_responsible"] and one["expected_datetime"]
    township = await db.fetchval("SELECT township_name FROM cases WHERE id = $1::uuid", request_id)
    assert township and (one["address"] or "").endswith(township)
    text = str(one)
    assert PHONE not in text and "张" not in text and "u-7" not in text  # no reporter identity
    assert "138****5678" in one["description"]

    listed = await asyncio.to_thread(reader.get_service_requests, status="open", service_code="0102")
    assert problems(REQUESTS, listed) == []
    assert request_id in [r["service_request_id"] for r in listed]
    as_xml = GeoReport(base(live_stack), output_format="xml")
    from_xml = await asyncio.to_thread(as_xml.get_service_request, request_id)
    assert from_xml["status"] == "open" and from_xml["service_request_id"] == request_id


async def test_services_and_definitions_in_both_formats(live_stack: LiveStack) -> None:
    reader = GeoReport(base(live_stack))
    services = await asyncio.to_thread(reader.get_service_list)
    assert problems(SERVICES, services) == []
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["1001"] == "违法新建 Illegal new building"
    assert {s["group"] for s in services if s["service_code"].startswith("10")} == {"违法建设 Illegal construction"}
    definition = await asyncio.to_thread(reader.get_service_definition, "1201")
    assert problems(SERVICE_DEFINITION, definition) == []
    xml_services = await asyncio.to_thread(GeoReport(base(live_stack), output_format="xml").get_service_list)
    assert {s["service_code"] for s in xml_services} == set(names)
    async with httpx.AsyncClient(base_url=live_stack.base_url) as raw:
        found = await raw.get("/open311/discovery.xml")
        assert found.status_code == 200 and found.headers["content-type"] == "text/xml; charset=utf-8"
        endpoint = ET.fromstring(found.content).find("endpoints/endpoint")
        assert endpoint is not None and endpoint.findtext("url") == base(live_stack)
        assert (await raw.get("/open311/v2/discovery.json")).json()["endpoints"][0]["formats"] == [
            "text/xml",
            "application/json",
        ]


async def test_status_follows_the_case_and_filters_apply(
    live_stack: LiveStack, api_key: str, db: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    filed = await file_request(live_stack, api_key, service_code="1499", description="路灯不亮")
    request_id = await request_id_of(live_stack, filed["token"])
    township = await db.fetchval("SELECT township_code FROM cases WHERE id = $1::uuid", request_id)
    headers = await as_person(db, f"disp-{township}")
    cancelled = await http.post(
        f"/api/v1/cases/{request_id}/commands", json={"kind": "cancel", "reason": "重复诉求"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    reader = GeoReport(base(live_stack))

    async def closed() -> dict[str, Any] | None:
        one: dict[str, Any] = await asyncio.to_thread(reader.get_service_request, request_id)
        return one if one["status"] == "closed" else None

    one = await wait_for(closed, "the cancelled request to read closed")
    assert one["status_notes"].startswith("办结销号")
    open_ids = [r["service_request_id"] for r in await asyncio.to_thread(reader.get_service_requests, status="open")]
    assert request_id not in open_ids
    by_township = await asyncio.to_thread(
        GeoReport(base(live_stack), jurisdiction=township).get_service_requests, service_request_id=request_id
    )
    assert [r["service_request_id"] for r in by_township] == [request_id]


async def test_internal_cases_stay_internal(live_stack: LiveStack, db: asyncpg.Pool) -> None:
    patrol_case = await db.fetchval("SELECT id::text FROM cases WHERE event_type <> 'citizen_report' LIMIT 1")
    reader = GeoReport(base(live_stack))
    if patrol_case is not None:
        assert await asyncio.to_thread(reader.get_service_requests, service_request_id=patrol_case) == []
    async with httpx.AsyncClient(base_url=base(live_stack)) as raw:
        missing = await raw.get(f"/requests/{patrol_case or '00000000-0000-0000-0000-000000000000'}.json")
    assert missing.status_code == 404 and problems(ERRORS, missing.json()) == []


@pytest.mark.parametrize(
    ("form", "status", "field"),
    [
        ({"service_code": "0102", "lat": "32.6", "long": "105.2"}, 403, "api_key"),
        ({"api_key": "o311_forged", "service_code": "0102", "lat": "32.6", "long": "105.2"}, 403, "api_key"),
        ({"api_key": "KEY", "service_code": "potholes", "lat": "32.6", "long": "105.2"}, 404, "service_code"),
        ({"api_key": "KEY", "service_code": "0102", "address_string": "村口"}, 400, "lat"),
        ({"api_key": "KEY", "service_code": "0102", "lat": "32.6", "long": "x"}, 400, "long"),
        (
            {"api_key": "KEY", "jurisdiction_id": "999999", "service_code": "1201", "lat": "32.6", "long": "105.2"},
            404,
            "jurisdiction_id",
        ),
    ],
)
async def test_refusals_use_the_spec_error_document(
    live_stack: LiveStack, api_key: str, form: dict[str, str], status: int, field: str
) -> None:
    body = {k: (api_key if v == "KEY" else v) for k, v in form.items()}
    async with httpx.AsyncClient(base_url=base(live_stack)) as raw:
        answer = await raw.post("/requests.json", data=body)
        as_xml = await raw.post("/requests.xml", data=body)
    assert answer.status_code == status and as_xml.status_code == status
    assert problems(ERRORS, answer.json()) == []
    assert answer.json()[0]["description"].startswith(f"{field}:")
    assert ET.fromstring(as_xml.content).findtext("error/code") == str(status)


async def test_bad_reads_are_400_or_404(live_stack: LiveStack) -> None:
    async with httpx.AsyncClient(base_url=base(live_stack)) as raw:
        wide = await raw.get(
            "/requests.json", params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
        )
        naive = await raw.get("/requests.json", params={"start_date": "2026-01-01T00:00:00"})
        status = await raw.get("/requests.json", params={"status": "pending"})
        token = await raw.get("/tokens/00000000-0000-0000-0000-000000000000.json")
        fmt = await raw.get("/services.html")
    assert (wide.status_code, naive.status_code, status.status_code) == (400, 400, 400)
    assert wide.json()[0]["description"].startswith("start_date:")
    assert status.json()[0]["description"].startswith("status:")
    assert (token.status_code, fmt.status_code) == (404, 404)


async def test_a_revoked_key_or_disabled_client_is_refused(live_stack: LiveStack) -> None:
    key = key_from(gridctl(live_stack, "open311", "add", "app-citizen", "--unit", "510822"))
    form = {"api_key": key, "service_code": "0699", "lat": str(LAT), "long": str(LON), "description": "测试"}
    async with httpx.AsyncClient(base_url=base(live_stack)) as raw:
        assert (await raw.post("/requests.json", data=form)).status_code == 200
        gridctl(live_stack, "users", "disable", "app-citizen")
        assert (await raw.post("/requests.json", data=form)).status_code == 403
        gridctl(live_stack, "users", "enable", "app-citizen")
        assert (await raw.post("/requests.json", data=form)).status_code == 200
        gridctl(live_stack, "open311", "revoke", "app-citizen")
        assert (await raw.post("/requests.json", data=form)).status_code == 403
    listing = gridctl(live_stack, "open311", "list")
    assert "app-citizen" in listing and "revoked" in listing and key not in listing
