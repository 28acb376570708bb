"""What a command's body refers to (evidence files, an assignee, a merge target, stage officers), checked against the
case and the caller's area. A reference outside it answers exactly like one that does not exist: 404, naming the
field, in the same words."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from core.cases import AssignBody, Assignee, CommandBody, MergeBody, PartyRef, StageBody, SubmitBody, VerifyBody
from core.enforcement import Evidence
from core.vocabulary import PartyKind
from dispatch.access.scope import FIELD_ROLES, TOWNSHIP_DIGITS, Scope
from dispatch.cases.machine import CaseRecord
from dispatch.errors import Invalid, NotInReach
from dispatch.media import grants as media_grants
from dispatch.media import store as media_store

SERVING = "valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
MEMBER_ON = (
    "JOIN team_memberships m ON m.person_id = p.id AND m.valid_from <= $2 AND (m.valid_to IS NULL OR $2 < m.valid_to)"
)
"""A person's unit and team on the day are their membership's then (the people row holds the latest)."""
PERSON_IN_TOWNSHIP = (
    f"SELECT p.name FROM people p {MEMBER_ON} WHERE p.id = $1 AND p.valid_from <= $2"
    " AND (p.valid_to IS NULL OR $2 < p.valid_to) AND starts_with(m.unit_code, $3) AND p.role = ANY($4::text[])"
)
FIELD_ROLE_NAMES = sorted(role.value for role in FIELD_ROLES)
"""A case goes to a person as its grid's member or duty post; officers and staff receive it through their team."""
TEAM_IN_TOWNSHIP = f"SELECT name FROM teams WHERE id = $1 AND {SERVING} AND starts_with(unit_code, $3) AND kind = $4"
TEAM_KIND = {PartyKind.ENFORCEMENT: "enforcement", PartyKind.AGENCY: "agency"}
TEAM_MEMBERS = (
    f"SELECT p.id FROM people p {MEMBER_ON} WHERE p.id = ANY($1::text[])"
    " AND p.valid_from <= $2 AND (p.valid_to IS NULL OR $2 < p.valid_to) AND m.team_id = $3"
)


async def check(pool: asyncpg.Pool, body: CommandBody, case: CaseRecord, scope: Scope, day: date) -> Assignee | None:
    """Refuse a body whose references fall outside the case or the caller's area; return an assign's resolved party."""
    if isinstance(body, VerifyBody | SubmitBody | StageBody):
        await _evidence(pool, body.evidence, scope)
    if isinstance(body, StageBody):
        await _officers(pool, body.officers, case, day)
    if isinstance(body, MergeBody):
        await _merge_target(pool, body, case, scope)
    if isinstance(body, AssignBody):
        return await assignee(pool, body.assignee, case, day)
    return None


async def _evidence(pool: asyncpg.Pool, evidence: tuple[Evidence, ...], scope: Scope) -> None:
    """Each file is stored and readable by the caller (else citing it would grant it to the case), of the kind said."""
    known = await media_store.describe(pool, [e.sha256 for e in evidence])
    for n, item in enumerate(evidence):
        info = known.get(item.sha256)
        if info is None or not await media_grants.visible(pool, item.sha256, scope):
            raise NotInReach(("body", "evidence", n, "sha256"), f"stored media {item.sha256}")
        if info.kind != item.kind.value:
            raise Invalid(f"media {item.sha256} is a {info.kind}", ("body", "evidence", n, "kind"))


async def assignee(pool: asyncpg.Pool, ref: PartyRef, case: CaseRecord, day: date) -> Assignee:
    """The party as the registry names it, if it serves the case's township today."""
    return await assignee_in(pool, ref, (case.township_code or "")[:TOWNSHIP_DIGITS], day)


async def assignee_in(pool: asyncpg.Pool, ref: PartyRef, township: str, day: date) -> Assignee:
    """The party as the registry names it, if it serves `township` today."""
    name: Any = None
    if township and ref.kind is PartyKind.GRID_MEMBER:
        name = await pool.fetchval(PERSON_IN_TOWNSHIP, ref.id, day, township, FIELD_ROLE_NAMES)
    elif township:
        name = await pool.fetchval(TEAM_IN_TOWNSHIP, ref.id, day, township, TEAM_KIND[ref.kind])
    if name is None:
        raise NotInReach(("body", "assignee", "id"), f"{ref.kind.value} {ref.id} serving this case's township")
    return Assignee(kind=ref.kind, id=ref.id, name=name)


async def _officers(pool: asyncpg.Pool, officers: tuple[str, ...], case: CaseRecord, day: date) -> None:
    """Every officer named serves today in the team handling the case."""
    team = case.assignee.id if case.assignee and case.assignee.kind is not PartyKind.GRID_MEMBER else None
    members = {r["id"] for r in await pool.fetch(TEAM_MEMBERS, list(officers), day, team)} if team else set()
    for n, officer in enumerate(officers):
        if officer not in members:
            raise NotInReach(("body", "officers", n), f"officer {officer} of the team handling this case")


async def _merge_target(pool: asyncpg.Pool, body: MergeBody, case: CaseRecord, scope: Scope) -> None:
    """The target is an open case of the same township, within the caller's reach."""
    args: list[object] = [body.into, case.township_code]
    reach = scope.case_sql(args)
    found = await pool.fetchval(
        f"SELECT 1 FROM cases WHERE id = $1 AND closed_at IS NULL AND township_code = $2 AND {reach}", *args
    )
    if found is None:
        raise NotInReach(("body", "into"), f"open case {body.into} to merge into")
