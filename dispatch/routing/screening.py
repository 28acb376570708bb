"""Screening: which events are quarantined or attached to an open case, and which commands' actors are untrusted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from core.cases import Actor, AttachEvent, OpenCase
from core.events import EventEnvelope
from core.vocabulary import Role
from dispatch.routing.duplicates import DuplicatePolicy, Opened, RecentOpens, attach_instead, open_case_near, was_split
from dispatch.routing.quarantine import RecentSightings, Sighting, event_places, foreign_reporter, forged_id, impostor
from dispatch.routing.sightings import sightings
from dispatch.routing.snapshot import RoutingSnapshot


def suspicious_reason(
    event: EventEnvelope, snap: RoutingSnapshot, today: date, seen_sightings: Iterable[Sighting]
) -> str | None:
    """Why an event in a township is quarantined (reporter of another, or id of an event in another); None to route."""
    where = event_places(snap.index, event, today)
    reason = foreign_reporter(event, snap.directory.people, where)
    return reason if reason is not None else forged_id(event, where, seen_sightings, snap.index, today)


def needs_sightings(event: EventEnvelope, snap: RoutingSnapshot, today: date) -> bool:
    """Whether events on record under this id can decide: the event lies in a township and its reporter passes."""
    where = event_places(snap.index, event, today)
    return bool(where) and foreign_reporter(event, snap.directory.people, where) is None


async def screen_event(
    pool: asyncpg.Pool, event: EventEnvelope, snap: RoutingSnapshot, today: date, placed: RecentSightings
) -> str | None:
    """Why an event is quarantined, asking the database (one query) only when its id can decide; None to route."""
    if not needs_sightings(event, snap, today):
        return suspicious_reason(event, snap, today, ())
    seen = await sightings(pool, event.event_id)
    moments_ago = placed.get(event.event_id)
    reason = suspicious_reason(event, snap, today, [*seen, moments_ago] if moments_ago is not None else seen)
    if reason is None:
        placed.remember(event)
    return reason


def remembered_case(command: OpenCase, recent: RecentOpens) -> UUID | None:
    """The nearest case of the command's category this worker opened within the radius and window, if any."""
    src = command.source
    return recent.near(src.category, src.location.lon, src.location.lat, command.issued_at)


def duplicate_decision(
    command: OpenCase,
    raw_event: dict[str, Any],
    policy: DuplicatePolicy,
    remembered: UUID | None,
    stored: UUID | None = None,
    split: bool = False,
) -> OpenCase | AttachEvent:
    """Attach to a near, recent open case of the category (remembered, else stored) unless split off one; else open."""
    found = remembered if remembered is not None else stored
    if policy.radius_m <= 0 or found is None or found == command.case_id or split:
        return command
    return attach_instead(command, found, raw_event)


async def unless_duplicate(
    pool: asyncpg.Pool, command: OpenCase, raw_event: dict[str, Any], recent: RecentOpens
) -> OpenCase | AttachEvent:
    """The command for a routed event: the database is asked only what memory cannot answer; opens are remembered."""
    policy, src = recent.policy, command.source
    if policy.radius_m <= 0:
        return command
    lon, lat, now = src.location.lon, src.location.lat, command.issued_at
    remembered = remembered_case(command, recent)
    stored = None if remembered is not None else await open_case_near(pool, policy, src.category, lon, lat, now)
    found = remembered if remembered is not None else stored
    split = found is not None and found != command.case_id and await was_split(pool, src.event_id)
    decision = duplicate_decision(command, raw_event, policy, remembered, stored, split)
    if isinstance(decision, OpenCase):
        recent.remember(Opened(command.case_id, src.category, lon, lat, now))
    return decision


def actor_reason(claimed: Actor, registered: Actor | None, admin_account: bool | None = None) -> str | None:
    """Why a command's actor is untrusted: not the registry's person, or an admin without account (if looked up)."""
    if registered is None and claimed.role == Role.ADMIN and admin_account is False:
        return f"actor {claimed.id} claims the admin role, but no enabled administrator account has that name"
    return impostor(claimed, registered)
