"""Who is acting: a person of the registry, with the role, unit and team the case rules check."""

from __future__ import annotations

from datetime import date

import asyncpg

from core.cases import Actor
from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.access.users import SERVING_PERSON


async def resolve(pool: asyncpg.Pool, person_id: str, day: date) -> Actor | None:
    """The actor for a person serving on `day`, or None when there is no such person."""
    row = await pool.fetchrow(SERVING_PERSON, person_id, day)
    if row is None:
        return None
    return Actor(id=row["id"], role=row["role"], unit_code=row["unit_code"], team_id=row["team_id"])


async def for_caller(pool: asyncpg.Pool, scope: Scope, day: date) -> Actor | None:
    """The actor a signed-in user acts as: their registry person, or the account itself for an admin.

    A system account (an intake gateway) never acts on cases over HTTP: system commands are the processors'.
    """
    if scope.person_id is not None:
        return await resolve(pool, scope.person_id, day)
    if scope.role is Role.ADMIN:
        return Actor(id=scope.username, role=scope.role, unit_code=scope.unit_code or None)
    return None
