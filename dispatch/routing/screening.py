"""Screening: which events are quarantined or attached to an open case, and which commands' actors are untrusted."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.cases import Actor, AttachEvent, OpenCase
from core.vocabulary import Role
from dispatch.routing.duplicates import DuplicatePolicy, attach_instead
from dispatch.routing.quarantine import impostor


def duplicate_decision(
    command: OpenCase,
    raw_event: dict[str, Any],
    policy: DuplicatePolicy,
    remembered: UUID | None,
    stored: UUID | None = None,
    split: bool = False,
    folded: UUID | None = None,
) -> OpenCase | AttachEvent:
    """Attach an alert to its device's open case (`folded`), else to a near, recent open case of the category
    (remembered, else stored), unless split off one; else open."""
    if folded is not None and folded != command.case_id and not split:
        return attach_instead(command, folded, raw_event)
    found = remembered if remembered is not None else stored
    if policy.radius_m <= 0 or found is None or found == command.case_id or split:
        return command
    return attach_instead(command, found, raw_event)


def actor_reason(claimed: Actor, registered: Actor | None, admin_account: bool | None = None) -> str | None:
    """Why a command's actor is untrusted: not the registry's person, or an admin without account (if looked up)."""
    if registered is None and claimed.role == Role.ADMIN and admin_account is False:
        return f"actor {claimed.id} claims the admin role, but no enabled administrator account has that name"
    return impostor(claimed, registered)
