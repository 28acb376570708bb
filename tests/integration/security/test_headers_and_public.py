"""Headers and public data, against the running product: every page and API answer carries its security headers; the
行政执法公示 feed answers a stranger without a token, masked, a page at a time and limited per address; a metrics
period beyond the cap is refused naming the field."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.cases import case_id_for_event
from tests.integration.auth import admin_headers, as_person
from tests.integration.conftest import another_web
from tests.integration.harness import ROOT, LiveStack, client_on, wait_for
from tests.integration.helpers import event
from tests.media_samples import PDF, png

pytestmark = pytest.mark.integration

PAGES = ("/", "/m/worker", "/m/officer")
ASSETS = ROOT / "web" / "static" / "dist" / "assets"
MASKED_PERSON = re.compile(r"^\w\*+\w?$")
PARTIES = (
    {"party_kind": "person", "party_name": "王大山", "party_id_number": "510822198001011234"},
    {"party_kind": "person", "party_name": "张三"},
    {"party_kind": "organisation", "party_name": "青川县某建材有限公司", "party_id_number": "91510822MA62XXXX0K"},
)
SECRETS = ("王大山", "张三", "510822198001011234", "13800001111", "3组12号")
"""What a decision's party and violation hold that the public may not read."""


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP as directive → sources."""
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parsed}


async def test_every_page_carries_a_strict_policy_and_may_not_be_framed(http: httpx.AsyncClient) -> None:
    asset = next(p.name for p in ASSETS.glob("*.js"))
    for path in (*PAGES, f"/static/assets/{asset}"):
        reply = await http.get(path)
        assert reply.status_code == 200, path
        policy = directives(reply.headers["content-security-policy"])
        assert policy["frame-ancestors"] == ["'none'"] and policy["script-src"] == ["'self'"], path
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"], path
        assert not {"'unsafe-eval'", "'unsafe-inline'"} & {s for sources in policy.values() for s in sources}, path
        assert reply.headers["referrer-policy"] == "no-referrer", path
        assert reply.headers["x-content-type-options"] == "nosniff", path
        assert reply.headers["x-frame-options"] == "DENY", path


async def test_api_answers_are_not_cached_sniffed_or_framed(live_stack: LiveStack, http: httpx.AsyncClient) -> None:
    async with client_on(live_stack) as stranger:
        refused = await stranger.get("/api/v1/cases")
        too_large = await stranger.post("/api/v1/events", content=b"x" * (65 * 1024))
    for reply in (await http.get("/api/v1/cases"), refused, too_large):
        assert reply.headers["cache-control"] == "no-store"
        assert directives(reply.headers["content-security-policy"]) == {
            "default-src": ["'none'"],
            "frame-ancestors": ["'none'"],
        }
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "no-referrer"
    assert (refused.status_code, too_large.status_code) == (401, 413)


class Decisions:
    """Enforcement decisions taken through the API by a township's officers."""

    def __init__(self, http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, Any]) -> None:
        self.http, self.db, self.spot = http, db, spot
        self.town = spot["township_code"]
        self.pair = [f"off-{self.town}-1", f"off-{self.town}-2"]

    async def do(self, case_id: str, **body: Any) -> None:
        """A command as the first officer, applied."""
        headers = await as_person(self.db, self.pair[0])
        reply = await self.http.post(f"/api/v1/cases/{case_id}/commands", json=body, headers=headers)
        assert reply.status_code == 200, reply.text

    async def take(self, party: dict[str, Any], photo: dict[str, str], doc: dict[str, str]) -> str:
        """Open an enforcement lead and take it to a decision against `party`; the case's id."""
        body = event("enforcement_lead", lon=self.spot["lon"], lat=self.spot["lat"], category="illegal_construction")
        assert (await self.http.post("/api/v1/events", json=body)).status_code == 202
        case_id = str(case_id_for_event(uuid.UUID(body["event_id"])))

        async def opened() -> bool | None:
            return (await self.http.get(f"/api/v1/cases/{case_id}")).status_code == 200 or None

        await wait_for(opened, f"case {case_id}")
        await self.do(case_id, kind="accept")
        await self.do(case_id, kind="verify", finding="现场在建违建属实")
        await self.do(case_id, kind="start")
        for stage, evidence in (("file", [doc]), ("investigate", [photo, doc])):
            await self.do(case_id, kind="stage", stage=stage, officers=self.pair, evidence=evidence)
        decision = {
            **party,
            "violation": "未经批准擅自建设，住城郊村3组12号，联系电话13800001111",
            "legal_basis": "《中华人民共和国城乡规划法》第六十四条",
            "measures": ["fine"],
            "fine_yuan": 2000,
        }
        await self.do(case_id, kind="stage", stage="decide", officers=self.pair, evidence=[doc], decision=decision)
        return case_id


async def upload(http: httpx.AsyncClient, data: bytes, content_type: str, who: dict[str, str]) -> dict[str, str]:
    """Evidence uploaded by the officer who will cite it; its reference."""
    reply = await http.post("/api/v1/media", content=data, headers={**who, "Content-Type": content_type})
    assert reply.status_code == 201, reply.text
    return {"sha256": reply.json()["sha256"], "kind": reply.json()["kind"]}


@pytest_asyncio.fixture(scope="module")
async def decided(http: httpx.AsyncClient, db: asyncpg.Pool) -> tuple[str, list[str]]:
    """Three decisions in a township no other test works in: the township and the decided cases' ids."""
    row = await db.fetchrow(
        "SELECT g.code, g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p ORDER BY g.township_code DESC, g.code LIMIT 1"
    )
    assert row is not None
    desk = Decisions(http, db, dict(row.items()))
    officer = await as_person(db, desk.pair[0])
    photo = await upload(http, png(note="disclosure"), "image/png", officer)
    doc = await upload(http, PDF, "application/pdf", officer)
    return desk.town, [await desk.take(party, photo, doc) for party in PARTIES]


async def test_the_disclosure_feed_is_public_masked_and_paginated(
    live_stack: LiveStack, decided: tuple[str, list[str]]
) -> None:
    town, case_ids = decided
    pages: list[dict[str, Any]] = []
    async with client_on(live_stack) as stranger:
        params: dict[str, Any] = {"unit": town, "limit": 2}
        while True:
            reply = await stranger.get("/api/v1/disclosures", params=params)
            assert reply.status_code == 200, reply.text
            pages.append(reply.json())
            for secret in SECRETS:
                assert secret not in reply.text, f"{secret} published"
            if pages[-1]["next_cursor"] is None:
                break
            params["cursor"] = pages[-1]["next_cursor"]
    assert [len(p["items"]) for p in pages[:-1]] == [2] * (len(pages) - 1) and len(pages) >= 2
    items = [item for page in pages for item in page["items"]]
    numbers = [item["number"] for item in items]
    assert len(set(numbers)) == len(numbers), "a decision on two pages"
    assert [i["decided_on"] for i in items] == sorted((i["decided_on"] for i in items), reverse=True)
    mine = [next(i for i in items if uuid.UUID(c).hex[:8] in i["number"]) for c in case_ids]
    assert [(i["party"], i["party_id_number"]) for i in mine] == [
        ("王*山", "510*************34"),
        ("张*", None),
        ("青川县某建材有限公司", "91510822MA62XXXX0K"),
    ]
    for item in items:
        assert set(item) == {
            "number",
            "decided_on",
            "authority",
            "township",
            "village",
            "category",
            "category_name",
            "party_kind",
            "party",
            "party_id_number",
            "legal_basis",
            "measures",
            "fine_yuan",
        }
        assert item["party_kind"] == "organisation" or MASKED_PERSON.match(item["party"]), item["party"]
        assert item["authority"].endswith("综合行政执法队") and item["village"]
        major, minor = item["category_name"].split("/")
        assert major and minor and len(item["category"]) == 4, item
    assert {i["category_name"] for i in mine} == {"违法建设/其他违法建设"}, "leads posted as illegal_construction"


async def test_the_disclosure_feed_refuses_bad_paging_naming_the_field(live_stack: LiveStack) -> None:
    async with client_on(live_stack) as stranger:
        too_many = await stranger.get("/api/v1/disclosures", params={"limit": 101})
        forged = await stranger.get("/api/v1/disclosures", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    assert forged.status_code == 422 and forged.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_the_disclosure_feed_is_declared_public_with_its_answers(live_stack: LiveStack) -> None:
    operation = httpx.get(f"{live_stack.base_url}/openapi.json").json()["paths"]["/api/v1/disclosures"]["get"]
    assert {"200", "422", "429"} <= set(operation["responses"]) and "security" not in operation


async def test_the_disclosure_feed_is_limited_per_address_token_or_not(live_stack: LiveStack) -> None:
    with another_web(live_stack, "web-public", {"GRID_RATE_PUBLIC_PER_ADDRESS": "3/minute"}) as web:
        async with client_on(web) as stranger:
            answers = [(await stranger.get("/api/v1/disclosures")).status_code for _ in range(3)]
            limited = await stranger.get("/api/v1/disclosures")
            signed = await stranger.get("/api/v1/disclosures", headers=admin_headers())
    assert answers == [200, 200, 200]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert signed.status_code == 429, "a token does not lift the public feed's limit"


async def test_a_metrics_period_beyond_the_cap_is_refused_naming_the_field(http: httpx.AsyncClient) -> None:
    end = datetime.now(UTC)
    too_long = {"from": (end - timedelta(days=367)).isoformat(), "to": end.isoformat()}
    refused = await http.get("/api/v1/metrics", params=too_long)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "from"]
    assert "366 days" in refused.json()["detail"][0]["msg"]
    unbounded = await http.get("/api/v1/metrics", params={"from": "2000-01-01T00:00:00Z"})
    assert unbounded.status_code == 422 and unbounded.json()["detail"][0]["loc"] == ["query", "from"]
    year = {"from": (end - timedelta(days=366)).isoformat(), "to": end.isoformat()}
    assert (await http.get("/api/v1/metrics", params=year)).status_code == 200
