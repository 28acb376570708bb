"""行政执法公示: enforcement decisions as the public may see them, with personal data masked."""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from dispatch.access.scope import Scope

DECISIONS = """
SELECT l.case_id, l.at, l.payload->'decision' AS decision, c.township_name, c.category
FROM case_log l JOIN cases c ON c.id = l.case_id
WHERE l.kind = 'stage' AND l.payload->>'stage' = 'decide' AND ($1::text IS NULL OR c.township_code LIKE $1 || '%')
ORDER BY l.at DESC LIMIT $2
"""
PHONE = re.compile(r"1\d{10}")
ID_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")


def mask_name(name: str) -> str:
    """A person's name with all but the surname hidden: 王小明 → 王**."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_id(number: str) -> str:
    """An ID number with the middle hidden: first 3 and last 2 kept."""
    return number[:3] + "*" * max(len(number) - 5, 1) + number[-2:] if len(number) > 5 else "*" * len(number)


def mask_text(text: str) -> str:
    """Free text with phone and ID numbers hidden."""
    return PHONE.sub(
        lambda m: m.group()[:3] + "****" + m.group()[-4:], ID_NUMBER.sub(lambda m: mask_id(m.group()), text)
    )


def public_decision(decision: dict[str, Any]) -> dict[str, Any]:
    """The decision with the party masked when it is a person (an organisation's name and code are public)."""
    person = decision["party_kind"] == "person"
    number = decision.get("party_id_number")
    return {
        "party_kind": decision["party_kind"],
        "party": mask_name(decision["party_name"]) if person else decision["party_name"],
        "party_id_number": (mask_id(number) if person else number) if number else None,
        "violation": mask_text(decision["violation"]),
        "legal_basis": decision["legal_basis"],
        "measures": decision["measures"],
        "fine_yuan": decision["fine_yuan"],
    }


async def feed(pool: asyncpg.Pool, unit: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest decisions, masked, optionally of one county or township."""
    rows = await pool.fetch(DECISIONS, unit, limit)
    return [
        {
            "case_id": r["case_id"],
            "decided_at": r["at"],
            "township": r["township_name"],
            "category": r["category"],
            **public_decision(r["decision"]),
        }
        for r in rows
    ]


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
