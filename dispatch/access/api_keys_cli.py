"""`gridctl open311`: the Open311 clients (system accounts) and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dispatch.access import api_keys
from dispatch.access.users import UserError
from dispatch.cli_support import console, fail, with_pool

open311_app = typer.Typer(help="Open311 clients: add, key, revoke, list (api_key per client).", no_args_is_help=True)
Client = Annotated[str, typer.Argument(help="the client's account name, e.g. hotline-12345")]


@open311_app.command("add")
def add(
    username: Client,
    unit: Annotated[str, typer.Option(help="the county or township code it reports into")],
    label: Annotated[str, typer.Option(help="who holds the key")] = "",
) -> None:
    """Create a client (a system account) and print its first API key on standard output, only this once."""
    try:
        key = with_pool(lambda pool: api_keys.add_client(pool, username, unit, label or username))
    except UserError as exc:
        fail(str(exc))
    console.print(f"[green]client {username} created[/green]; its api_key follows on standard output (shown once)")
    typer.echo(key)


@open311_app.command("key")
def key(username: Client, label: Annotated[str, typer.Option(help="who holds the key")] = "") -> None:
    """Issue another key for a client (rotate: issue, hand over, then `revoke` the old ones)."""
    try:
        secret = with_pool(lambda pool: api_keys.issue(pool, username, label or username))
    except UserError as exc:
        fail(str(exc))
    typer.echo(secret)


@open311_app.command("revoke")
def revoke(username: Client) -> None:
    """Revoke every key of a client at once."""
    count = with_pool(lambda pool: api_keys.revoke(pool, username))
    console.print(f"[green]{count} key(s) of {username} revoked[/green]")


@open311_app.command("list")
def list_clients() -> None:
    """Every key's client, label, unit and status (never the key)."""
    table = Table("client", "label", "unit", "created", "status")
    for r in with_pool(api_keys.list_keys):
        status = "revoked" if r["revoked_at"] else "account disabled" if r["disabled_at"] else "live"
        table.add_row(r["username"], r["label"], r["unit_code"], r["created_at"].isoformat(timespec="seconds"), status)
    console.print(table)
