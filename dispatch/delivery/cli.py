"""`gridctl delivery`: group robots per township or team, the channels of each notice kind, the outbox's state."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch.cli_support import console, fail, with_pool
from dispatch.delivery import outbox, webhooks

delivery_app = typer.Typer(help="Notices beyond the page: SMS and group-robot webhooks.", no_args_is_help=True)


@delivery_app.command("webhook-add")
def webhook_add(
    name: Annotated[str, typer.Argument(help="what the robot is, e.g. 乡镇指挥群")],
    url: Annotated[str, typer.Argument(help="the robot's webhook URL (with its key)")],
    by: Annotated[str, typer.Option(help="who adds it (recorded)")],
    unit: Annotated[str | None, typer.Option(help="township code: the township's notices")] = None,
    team: Annotated[str | None, typer.Option(help="team id: its members' notices")] = None,
) -> None:
    """Add a group robot (企业微信 or 钉钉 webhook) for a township or a team."""
    try:
        row = with_pool(lambda pool: webhooks.add_webhook(pool, name, url, by, unit, team))
    except ValueError as exc:
        fail(str(exc))
        return
    print(row["id"])
    console.print(f"[green]webhook {row['id']} added for {unit or team}[/green]")


@delivery_app.command("demo-webhooks")
def demo_webhooks(
    base_url: Annotated[str, typer.Argument(help="e.g. the local sink's http://127.0.0.1:8025/webhook")],
    by: Annotated[str, typer.Option(help="who adds them (recorded)")],
) -> None:
    """A robot at BASE_URL/<township code> for every township that has none (make run points them at the sink)."""
    try:
        added = with_pool(lambda pool: webhooks.add_demo_webhooks(pool, base_url, by))
    except ValueError as exc:
        fail(str(exc))
        return
    console.print(f"{added} township webhook(s) added")


@delivery_app.command("webhook-list")
def webhook_list() -> None:
    """Every robot."""
    for r in with_pool(webhooks.list_webhooks):
        state = "on " if r["enabled"] else "off"
        print(f"{r['id']:>4} {state} {r['unit_code'] or r['team_id']:<20} {r['name']}  {r['url']}")


@delivery_app.command("webhook-enable")
def webhook_enable(
    webhook_id: int,
    by: Annotated[str, typer.Option(help="who changes it (recorded)")],
    off: Annotated[bool, typer.Option("--off", help="switch it off")] = False,
) -> None:
    """Switch a robot on (or off with --off)."""
    if not with_pool(lambda pool: webhooks.set_enabled(pool, webhook_id, not off, by)):
        fail(f"no webhook {webhook_id}")
    console.print(f"webhook {webhook_id} {'off' if off else 'on'}")


@delivery_app.command("channels")
def channels_list() -> None:
    """Which notice kinds go out by SMS and by webhook."""
    for kind, channel in with_pool(webhooks.channels):
        print(f"{kind:<22} {channel}")


@delivery_app.command("channel")
def channel_set(
    kind: str,
    channel: str,
    off: Annotated[bool, typer.Option("--off", help="stop sending this kind on this channel")] = False,
) -> None:
    """Send notices of KIND on CHANNEL (sms or webhook), or stop with --off."""
    try:
        with_pool(lambda pool: webhooks.set_channel(pool, kind, channel, not off))
    except ValueError as exc:
        fail(str(exc))
    console.print(f"{kind} by {channel}: {'off' if off else 'on'}")


@delivery_app.command("status")
def status() -> None:
    """How many deliveries are pending, being sent, sent and failed."""
    for name, count in sorted(with_pool(outbox.status_counts).items()):
        print(f"{name:<8} {count}")
