"""`gridctl`: operate the grid registry (镇村治理一张网) and the database from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch import db
from dispatch.access.api_keys_cli import open311_app
from dispatch.access.cli import users_app
from dispatch.backup.cli import backup_app
from dispatch.cases.cli import audit_app, cases_app
from dispatch.cli_support import console
from dispatch.delivery.cli import delivery_app
from dispatch.people.cli import people_app
from dispatch.redistricting.cli import plans_cli
from dispatch.registry.categories_cli import categories_app
from dispatch.registry.cli import registry_app
from dispatch.registry.devices_cli import devices_app
from dispatch.registry.self_report_cli import self_report_app
from dispatch.registry.step_sla_cli import sla_app
from dispatch.settings import CommonSettings

app = typer.Typer(help="Grid registry and database operations (镇村治理一张网).", no_args_is_help=True)
app.add_typer(registry_app)
app.add_typer(plans_cli)
app.add_typer(people_app, name="people")
app.add_typer(audit_app, name="audit")
app.add_typer(cases_app, name="cases")
app.add_typer(users_app, name="users")
app.add_typer(self_report_app, name="self-report")
app.add_typer(devices_app, name="devices")
app.add_typer(sla_app, name="sla")
app.add_typer(backup_app)
app.add_typer(delivery_app, name="delivery")
app.add_typer(open311_app, name="open311")
app.add_typer(categories_app, name="categories")


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply database migrations (Alembic) up to REVISION, as the owner role (GRID_DATABASE_OWNER_URL)."""
    db.migrate(CommonSettings().migration_url, revision)
    console.print(f"[green]database migrated to {revision}[/green]")
