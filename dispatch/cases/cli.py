"""`gridctl audit` and `gridctl cases`: check the record, rebuild the projections, compute metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from dispatch.access.scope import OPERATOR
from dispatch.cases import audit, metrics, projection
from dispatch.cases.anchors import AnchorFile
from dispatch.cases.seal import audit_keys
from dispatch.cli_support import console, fail, with_pool
from dispatch.settings import AuditSettings

audit_app = typer.Typer(help="The tamper-evident record: check every case log chain and every evidence file.")
cases_app = typer.Typer(help="Cases: rebuild projections from the log, metrics.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute every case log's chain and seals, find every anchored head again, and check every evidence file's
    hash; name the first broken entry of each case."""
    try:
        settings = AuditSettings()
    except ValidationError:
        fail("gridctl audit verify needs GRID_AUDIT_KEY, the key that seals the record (README: The record)")
        raise
    anchors = AnchorFile(settings.audit_anchor_dir, audit_keys(settings))
    report = with_pool(lambda pool: audit.verify(pool, settings.media_dir, anchors))
    summary = (
        f"{report.cases} case(s), {report.entries} log entries ({report.keyed} sealed with an audit key,"
        f" {report.entries - report.keyed} unkeyed), {report.anchored} anchored head(s) in"
        f" {report.anchor_lines} anchor line(s), {report.media} evidence file(s) checked"
    )
    if report.entries and not report.anchor_lines:
        console.print(
            f"[yellow]no anchors in {anchors.path} yet: a cut tail cannot be seen (README: The record)[/yellow]"
        )
    if report.problems:
        fail(f"audit FAILED: {summary}", report.problems)
    console.print(f"[green]audit passed: {summary}[/green]")


@cases_app.command("rebuild")
def cases_rebuild(
    check: Annotated[bool, typer.Option("--check", help="only compare, write nothing")] = False,
) -> None:
    """Rebuild the case tables by folding the case log; report every field that differed."""
    report = with_pool(lambda pool: projection.rebuild(pool, write=not check))
    for line in report.differences[:50]:
        console.print(f"  - {line}")
    verb = "rebuilt" if report.written else "compared"
    console.print(f"{report.cases} case(s) {verb}; {len(report.differences)} difference(s) from the live tables")
    if check and report.differences:
        raise typer.Exit(1)


@cases_app.command("metrics")
def cases_metrics(
    by: Annotated[str, typer.Option(help="township, village, grid, team or person")] = "township",
    days: Annotated[int, typer.Option(help="the period: this many days up to now")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """结案率, 按期结案率, 返工率, 延期率, open and overdue counts, median minutes per step (README)."""
    if by not in metrics.DIMENSIONS:
        fail(f"--by must be one of {', '.join(metrics.DIMENSIONS)}")
    end = datetime.now(UTC)
    rows = with_pool(lambda pool: metrics.compute(pool, by, end - timedelta(days=days), end, OPERATOR))
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("key", "received", "closed", "结案率", "按期结案率", "返工率", "延期率", "open", "overdue")
    for r in rows:
        pct = [
            f"{r[k]:.0%}" if r[k] is not None else "–"
            for k in ("closure_rate", "on_time_rate", "rework_rate", "extension_rate")
        ]
        table.add_row(r["key"], str(r["received"]), str(r["closed"]), *pct, str(r["open"]), str(r["overdue"]))
    Console().print(table)
