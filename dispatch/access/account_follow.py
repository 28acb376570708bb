"""Person-bound accounts follow their person's service on a day: an account takes the unit and team of the membership
current that day (its sessions end, so the next token carries the new scope), and the account of a person whose
service has ended is disabled.

A plan applied ahead of its date writes dated memberships; the accounts change when the date comes, by the
processors' clock (`streams.timers`), or at once when the plan applies on or after its date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dispatch.access.users import PERSON_ROLES, disable_person_accounts
from dispatch.clock import in_force
from dispatch.db import Conn

ROLES = sorted(r.value for r in PERSON_ROLES)
MEMBER_ON_DAY = f"m.person_id = u.person_id AND {in_force('m', '$1')}"

MOVE = f"""
UPDATE users u SET unit_code = m.unit_code, team_id = m.team_id, session_epoch = u.session_epoch + 1
FROM team_memberships m
WHERE {MEMBER_ON_DAY} AND u.role = ANY($2::text[]) AND u.disabled_at IS NULL
  AND ($3::text[] IS NULL OR u.person_id = ANY($3::text[]))
  AND (u.unit_code, u.team_id) IS DISTINCT FROM (m.unit_code, m.team_id)
RETURNING u.username
"""
ENDED = """
SELECT DISTINCT u.person_id FROM users u JOIN people p ON p.id = u.person_id
WHERE p.valid_to <= $1 AND u.disabled_at IS NULL AND ($2::text[] IS NULL OR u.person_id = ANY($2::text[]))
"""
ENABLED = (
    "SELECT count(*) FROM users WHERE person_id = ANY($1::text[]) AND role = ANY($2::text[]) AND disabled_at IS NULL"
)


@dataclass(frozen=True)
class Followed:
    """The accounts that changed: moved to a new unit or team, and disabled."""

    moved: list[str]
    disabled: list[str]


async def follow_service(conn: Conn, day: date, people: list[str] | None = None) -> Followed:
    """Move every person-bound account (of `people`, or everyone's) to its person's membership on `day` and disable
    those whose person's service ended on or before it, in the caller's transaction; the usernames changed."""
    ended = [r["person_id"] for r in await conn.fetch(ENDED, day, people)]
    disabled = await disable_person_accounts(conn, ended)
    moved = [r["username"] for r in await conn.fetch(MOVE, day, ROLES, people)]
    return Followed(sorted(moved), sorted(disabled))


async def accounts_of(conn: Conn, people: list[str]) -> int:
    """How many enabled person-bound accounts these people have."""
    count: int = await conn.fetchval(ENABLED, people, ROLES)
    return count
