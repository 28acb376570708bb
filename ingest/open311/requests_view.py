"""A case as GeoReport's service request: open or closed, the six-step state in the status notes, who is
responsible, when it is expected; never who reported it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispatch.cases.columns import Row
from ingest.open311.services import Service

CLOSED = ("closed", "cancelled", "merged")
SIX_STEPS = {
    "registered": "受理登记 Registered",
    "dispatched": "分类转办 Classified and dispatched",
    "returned": "分类转办 Returned for re-dispatch",
    "accepted": "快速核查 Awaiting on-site verification",
    "verified": "研究处理 Verified, being handled",
    "in_progress": "研究处理 Being handled",
    "submitted": "跟踪督办 Handled, awaiting the check",
    "checked": "跟踪督办 Checked, awaiting closure",
    "closed": "办结销号 Closed",
    "cancelled": "办结销号 Cancelled",
    "merged": "办结销号 Merged into another request",
}
TEAM_KINDS = ("team", "agency")


def w3(at: datetime | None) -> str | None:
    """A time in the spec's W3C format with its offset."""
    return None if at is None else at.isoformat(timespec="seconds")


def status_notes(row: Row) -> str:
    """The six-step state, the supervision level and, for a merged request, the request it joined."""
    notes = SIX_STEPS.get(row["state"], str(row["state"]))
    if row["supervision_level"]:
        notes += f"；督办{row['supervision_level']}级 Supervised (level {row['supervision_level']})"
    if row["merged_into"] is not None:
        notes += f"；见 see {row['merged_into']}"
    return notes


def agency(row: Row) -> str | None:
    """The responsible team or agency by name; a grid member by their grid, never by their name."""
    if row["assignee_kind"] in TEAM_KINDS:
        return str(row["assignee_name"])
    if row["assignee_kind"] is not None and row["grid_name"]:
        return f"{row['grid_name']}网格 Grid {row['grid_name']}"
    return None


def address(row: Row) -> str | None:
    """The place from most to least specific, cut to the village."""
    parts = [p for p in (row["village_name"], row["township_name"]) if p]
    return "，".join(parts) or None


def service_request(row: Row, services: dict[str, Service]) -> dict[str, Any]:
    """One request in the order the spec lists its fields."""
    service = services.get(row["category"])
    closed = row["state"] in CLOSED
    return {
        "service_request_id": str(row["id"]),
        "status": "closed" if closed else "open",
        "status_notes": status_notes(row),
        "service_name": None if service is None else f"{service.name_zh} {service.name_en}",
        "service_code": row["category"],
        "description": row["description"] or None,
        "agency_responsible": agency(row),
        "service_notice": None,
        "requested_datetime": w3(row["opened_at"]),
        "updated_datetime": w3(row["closed_at"] if closed and row["closed_at"] else row["updated_at"]),
        "expected_datetime": w3(row["due_at"]),
        "address": address(row),
        "address_id": None,
        "zipcode": None,
        "lat": round(row["lat"], 5),
        "long": round(row["lon"], 5),
        "media_url": None,
    }
