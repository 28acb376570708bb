"""`gridctl users`: accounts and their roles; who read personal data."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from core.vocabulary import Role
from dispatch.access import access_log
from dispatch.access import users as users_store
from dispatch.access.demo_accounts import DEMO_PASSWORD, plan_accounts
from dispatch.access.users import UserError
from dispatch.cli_support import console, fail, with_pool

users_app = typer.Typer(help="User accounts: add, list, password, disable and enable.", no_args_is_help=True)
Username = Annotated[str, typer.Argument(help="the sign-in name")]


def _password(given: str | None) -> str:
    """The password from the option, else read from standard input (so it stays out of shell history)."""
    if given:
        return given
    if sys.stdin.isatty():
        return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


def _run_or_fail(work: Callable[[asyncpg.Pool], Awaitable[object]]) -> None:
    try:
        with_pool(work)
    except UserError as exc:
        fail(str(exc))


@users_app.command("add")
def add(
    username: Username,
    role: Annotated[Role, typer.Option(help="the account's role")],
    person: Annotated[str | None, typer.Option(help="registry person the account belongs to")] = None,
    unit: Annotated[str | None, typer.Option(help="admin/system accounts: the unit code they administer")] = None,
    password: Annotated[str | None, typer.Option(help="else read from stdin or prompted")] = None,
) -> None:
    """Create an account; a person's account takes its unit and team from the registry."""
    secret = _password(password)
    _run_or_fail(lambda pool: users_store.add_user(pool, username, secret, role, unit, person))
    console.print(f"[green]account {username} ({role.value}) created[/green]")


@users_app.command("list")
def list_users() -> None:
    """Every account with its role, unit, person and status."""
    rows = with_pool(users_store.list_users)
    table = Table("username", "role", "unit", "person", "team", "status")
    for r in rows:
        status = "disabled" if r["disabled_at"] else "demo" if r["demo"] else ""
        table.add_row(r["username"], r["role"], r["unit_code"], r["person_id"] or "", r["team_id"] or "", status)
    console.print(table)


@users_app.command("passwd")
def passwd(username: Username, password: Annotated[str | None, typer.Option()] = None) -> None:
    """Set a new password; every session of the account ends within seconds and it is no longer a demo account."""
    secret = _password(password)
    _run_or_fail(lambda pool: users_store.set_password(pool, username, secret))
    console.print(f"[green]password of {username} changed[/green]")


@users_app.command("disable")
def disable(username: Username) -> None:
    """Disable an account: no sign-in, no refresh, and its access tokens are refused within seconds."""
    _run_or_fail(lambda pool: users_store.set_status(pool, username, disabled=True))
    console.print(f"[green]{username} disabled[/green]")


@users_app.command("enable")
def enable(username: Username) -> None:
    """Enable a disabled account."""
    _run_or_fail(lambda pool: users_store.set_status(pool, username, disabled=False))
    console.print(f"[green]{username} enabled[/green]")


@users_app.command("demo")
def demo(county: Annotated[str, typer.Option(help="6-digit county code")] = "510822") -> None:
    """The demo accounts of a county, one per role, with their password (for the banner of `make run`)."""
    accounts = with_pool(lambda pool: plan_accounts(pool, county))
    console.print(f"demo accounts (password [bold]{DEMO_PASSWORD}[/bold]):")
    for a in accounts:
        console.print(f"  {a.username:<13} {a.role.value:<18} {a.person_id or '-':<22} {a.unit_code}", highlight=False)


@users_app.command("access-log")
def access(
    username: Annotated[str | None, typer.Option(help="only this user's reads")] = None,
    subject: Annotated[str | None, typer.Option(help="only reads of this case, media hash or person")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Who read personal data (reporters' names and phones, people's contacts, photos), newest first."""
    rows = with_pool(lambda pool: access_log.entries(pool, None, username, subject, limit))
    table = Table("at", "user", "role", "address", "what", "subject", "fields")
    for r in rows:
        table.add_row(
            r["at"].isoformat(timespec="seconds"),
            r["username"],
            r["role"],
            r["address"] or "",
            r["what"],
            r["subject"],
            ",".join(r["fields"]),
        )
    console.print(table)
