"""`gridctl sla`: step SLAs (minutes to accept and to verify) per unit, category and priority; data, audited. Data goes
to stdout, messages to stderr."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from dispatch.cli_support import console, fail, with_pool
from dispatch.clock import local_day
from dispatch.errors import DomainError
from dispatch.registry import step_sla_store
from dispatch.registry.notify import announce
from dispatch.registry.step_sla_spec import StepSlaSpec, describe, first_day
from dispatch.settings import CommonSettings

sla_app = typer.Typer(help="Step SLAs: minutes to accept and to verify per unit (audited).", no_args_is_help=True)
By = Annotated[str, typer.Option(help="who makes the change (recorded)")]
Reason = Annotated[str, typer.Option(help="why (recorded)")]


def _today() -> date:
    return local_day(datetime.now(UTC))


@sla_app.command("list")
def sla_list(unit: Annotated[str | None, typer.Option(help="county or township code")] = None) -> None:
    """Policies in force or scheduled, county rows first."""
    for row in with_pool(lambda pool: step_sla_store.list_policies(pool, unit, _today())):
        print(describe(row))


@sla_app.command("set")
def sla_set(
    unit: Annotated[str, typer.Argument(help="county (default) or township (override) code")],
    accept: Annotated[int, typer.Option(help="minutes to accept")],
    verify: Annotated[int, typer.Option(help="minutes to verify on site")],
    by: By,
    reason: Reason,
    category: Annotated[str | None, typer.Option(help="only this category")] = None,
    priority: Annotated[str | None, typer.Option(help="only this priority")] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD (default today)")] = None,
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Set the unit's policy for a category and priority: replaces the open one from that day, or creates it."""
    fields: dict[str, Any] = {
        "unit_code": unit,
        "accept_minutes": accept,
        "verify_minutes": verify,
        "category": category,
        "priority": priority,
        "valid_from": valid_from,
        "reason": reason,
        "note": note,
    }
    try:
        spec = StepSlaSpec.model_validate(fields)
        start = first_day(spec.valid_from, _today())
        done, row = with_pool(lambda pool: step_sla_store.set_policy(pool, spec, start, by))
    except ValidationError as exc:
        fail("policy refused", [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()])
        return
    except DomainError as exc:
        fail(f"policy refused: {exc}")
        return
    announce(CommonSettings(), step_sla_store.PART, 0, f"step SLA {row['id']} of {unit} {done} by {by}")
    console.print(f"[green]policy {row['id']} {done}[/green]")
    print(describe(row))


@sla_app.command("end")
def sla_end(policy_id: int, by: By, reason: Reason) -> None:
    """End an open policy today: the next closest one (or the product default) applies."""
    try:
        with_pool(lambda pool: step_sla_store.end_policy(pool, policy_id, reason, _today(), by))
    except DomainError as exc:
        fail(str(exc))
    announce(CommonSettings(), step_sla_store.PART, 0, f"step SLA {policy_id} ended by {by}")
    console.print(f"policy {policy_id} ended")


@sla_app.command("changes")
def sla_changes(
    unit: Annotated[str | None, typer.Option(help="county or township code")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
) -> None:
    """Who changed which policy when and why, newest first (JSON)."""
    rows = with_pool(lambda pool: step_sla_store.policy_changes(pool, limit, "", unit))
    print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
