"""行政执法公示: enforcement decisions as the public may see them (personal data masked, a page at a time), and
the supervision records of cases."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, Field

from core.categories import MinorCode
from core.enforcement import Measure
from dispatch.access.scope import Scope
from dispatch.cases.columns import Row
from dispatch.clock import local_day
from dispatch.errors import Invalid

PAGE_MAX = 100
"""The most decisions one page of the feed holds."""

DECISIONS = """
SELECT l.case_id, l.seq, l.at, l.payload->'decision' AS decision, c.category, c.township_code, c.township_name,
       v.name AS village_name, t.name AS team_name, concat_ws('/', km.name_zh, k.name_zh) AS category_name
FROM case_log l
JOIN cases c ON c.id = l.case_id
LEFT JOIN categories k ON k.code = c.category
LEFT JOIN categories km ON km.code = left(c.category, 2)
LEFT JOIN people p ON p.id = l.actor_id
LEFT JOIN teams t ON t.id = p.team_id
LEFT JOIN LATERAL (
    SELECT u.name FROM admin_units u WHERE u.code = c.village_code ORDER BY u.valid_from DESC LIMIT 1
) v ON true
WHERE l.kind = 'stage' AND l.payload->>'stage' = 'decide'
  AND ($1::text IS NULL OR c.township_code LIKE $1 || '%')
  AND ($2::timestamptz IS NULL OR (l.at, l.case_id, l.seq) < ($2, $3::uuid, $4::int))
ORDER BY l.at DESC, l.case_id DESC, l.seq DESC
LIMIT $5
"""
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def mask_name(name: str) -> str:
    """A person's name with only its first and, from three characters on, last character kept: 张三 → 张*,
    王小明 → 王*明."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(number: str) -> str:
    """An ID number with the middle hidden: first 3 and last 2 kept."""
    return number[:3] + "*" * max(len(number) - 5, 1) + number[-2:] if len(number) > 5 else "*" * len(number)


def mask_phone(number: str) -> str:
    """A mobile number with the middle four digits hidden: 13800001111 → 138****1111."""
    return number[:3] + "****" + number[-4:]


def mask_text(text: str) -> str:
    """Free text with phone and ID numbers hidden."""
    return PHONE.sub(lambda m: mask_phone(m.group()), ID_NUMBER.sub(lambda m: mask_id(m.group()), text))


class PublicDecision(BaseModel):
    """One enforcement decision as the law has it published: who decided what, on which basis, against whom
    (a person's name and ID number masked), and where, down to the village."""

    number: str = Field(description="the decision's number: township code, year, case and entry")
    decided_on: date = Field(description="the day of the decision (Asia/Shanghai)")
    authority: str = Field(description="the enforcement team that decided")
    township: str | None
    village: str | None = Field(description="the place, cut to its village")
    category: MinorCode = Field(description="the case type: its 小类 code")
    category_name: str = Field(default="", description="大类/小类 in Chinese")
    party_kind: Literal["person", "organisation"]
    party: str = Field(description="an organisation's name; a person's masked (王*明)")
    party_id_number: str | None = Field(description="an organisation's credit code; a person's ID number masked")
    legal_basis: str
    measures: tuple[Measure, ...]
    fine_yuan: int


class DisclosurePage(BaseModel):
    """A page of the feed, newest first, and the cursor of the next page (None after the last)."""

    items: list[PublicDecision]
    next_cursor: str | None


def public_decision(row: Row) -> PublicDecision:
    """A decision's log row as the public may see it."""
    decision = row["decision"]
    person = decision["party_kind"] == "person"
    number = decision.get("party_id_number")
    decided = local_day(row["at"])
    return PublicDecision(
        number=f"{row['township_code']}-{decided.year}-{row['case_id'].hex[:8]}-{row['seq']}",
        decided_on=decided,
        authority=row["team_name"] or f"{row['township_name'] or ''}综合行政执法队",
        township=row["township_name"],
        village=row["village_name"],
        category=row["category"],
        category_name=row["category_name"] or "",
        party_kind=decision["party_kind"],
        party=mask_name(decision["party_name"]) if person else decision["party_name"],
        party_id_number=(mask_id(number) if person else number) if number else None,
        legal_basis=mask_text(decision["legal_basis"]),
        measures=tuple(decision["measures"]),
        fine_yuan=decision.get("fine_yuan", 0),
    )


def encode_cursor(at: datetime, case_id: UUID, seq: int) -> str:
    """The position after a decision, opaque to clients."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{case_id}|{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID, int]:
    """The position a cursor of this feed names; Invalid (naming `cursor`) for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, case_id, seq = text.split("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("no zone")
        return moment, UUID(case_id), int(seq)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise Invalid("not a cursor this feed gave", ("query", "cursor")) from exc


async def feed(pool: asyncpg.Pool, unit: str | None, limit: int, cursor: str | None = None) -> DisclosurePage:
    """A page of decisions, newest first, masked, optionally of one county or township, after `cursor`."""
    after: tuple[datetime | None, UUID | None, int | None] = decode_cursor(cursor) if cursor else (None, None, None)
    limit = min(limit, PAGE_MAX)
    rows = await pool.fetch(DECISIONS, unit, *after, limit + 1)
    items = [public_decision(r) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return DisclosurePage(
        items=items, next_cursor=encode_cursor(last["at"], last["case_id"], last["seq"]) if last else None
    )


async def supervisions(
    pool: asyncpg.Pool, person: str | None, case_id: Any | None, limit: int, scope: Scope
) -> list[dict[str, Any]]:
    """Supervision records (督办) of cases within `scope`, newest first: of one case, or those a person (or their
    team) was told of; a user also sees every record they were told of."""
    args: list[object] = [person, case_id, limit, scope.me]
    reach = scope.case_sql(args, alias="c")
    rows = await pool.fetch(
        "SELECT s.case_id, s.seq, s.level, s.step, s.due_at, s.at, s.by_id, s.reason, s.notified"
        " FROM supervisions s JOIN cases c ON c.id = s.case_id LEFT JOIN people p ON p.id = $1"
        " WHERE ($1::text IS NULL OR $1 = ANY(s.notified) OR p.team_id = ANY(s.notified))"
        f" AND ($2::uuid IS NULL OR s.case_id = $2) AND ({reach} OR $4 = ANY(s.notified))"
        " ORDER BY s.at DESC LIMIT $3",
        *args,
    )
    return [dict(r.items()) for r in rows]
