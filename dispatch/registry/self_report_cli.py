"""`gridctl self-report`: how each township verifies a case its own assignee reported (data, audited). Data goes to
stdout, messages to stderr."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from dispatch.cli_support import console, fail, with_pool
from dispatch.registry import self_report_store
from dispatch.registry.notify import announce
from dispatch.registry.self_report_store import SelfReportSpec
from dispatch.settings import CommonSettings

self_report_app = typer.Typer(help="Self-reported cases: reporter_report or duty_post, per unit.", no_args_is_help=True)
Unit = Annotated[str, typer.Argument(help="county (default) or township (override) code")]
By = Annotated[str, typer.Option(help="who makes the change (recorded)")]


@self_report_app.command("list")
def policies_list() -> None:
    """Every unit's policy, county rows first."""
    for r in with_pool(self_report_store.list_policies):
        print(f"{r['unit_code']:<10} {r['policy']:<16} by {r['updated_by']}  {r['note']}")


@self_report_app.command("set")
def policies_set(
    unit: Unit,
    policy: Annotated[str, typer.Argument(help="reporter_report or duty_post")],
    by: By,
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Set a unit's policy; cases routed from now on follow it."""
    if not self_report_store.valid_unit(unit):
        fail(f"unit {unit}: a county (6 digits) or township (9 digits) code")
    try:
        spec = SelfReportSpec.model_validate({"policy": policy, "note": note})
    except ValidationError as exc:
        fail("policy refused", [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()])
        return
    with_pool(lambda pool: self_report_store.set_policy(pool, unit, spec, by))
    announce(CommonSettings(), "rules", 0, f"self-report policy of {unit} set by {by}")
    console.print(f"[green]{unit}: {spec.policy.value}[/green]")


@self_report_app.command("clear")
def policies_clear(unit: Unit, by: By) -> None:
    """Remove a unit's own policy: its county's (or the product default) applies."""
    try:
        with_pool(lambda pool: self_report_store.clear_policy(pool, unit, by))
    except self_report_store.PolicyNotFound as exc:
        fail(str(exc))
    announce(CommonSettings(), "rules", 0, f"self-report policy of {unit} cleared by {by}")
    console.print(f"{unit}: cleared")


@self_report_app.command("changes")
def policies_changes(limit: Annotated[int, typer.Option(min=1, max=1000)] = 20) -> None:
    """Who changed which unit's policy when."""
    rows = with_pool(lambda pool: self_report_store.policy_changes(pool, limit))
    print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
