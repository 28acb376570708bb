"""`gridctl`: operate the grid registry and the database from the command line."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from dispatch import db, demo
from dispatch.notify import announce
from dispatch.settings import CommonSettings

app = typer.Typer(help="Grid registry and database operations (镇村治理一张网).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data: 青川县 with synthetic grids.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
console = Console(stderr=True)


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply database migrations (Alembic) up to REVISION."""
    db.migrate(CommonSettings().sqlalchemy_url, revision)
    console.print(f"[green]database migrated to {revision}[/green]")


@demo_app.command("load")
def demo_load(
    county: Annotated[str, typer.Option(help="6-digit county code")] = demo.DEMO_COUNTY,
    force: Annotated[bool, typer.Option(help="replace the county's demo data")] = False,
    notify: Annotated[bool, typer.Option(help="tell running stream processors to reload")] = True,
) -> None:
    """Load one county's divisions with synthetic polygons, people, teams and routing rules."""
    settings = CommonSettings()

    async def run() -> dict[str, int]:
        pool = await db.create_pool(settings.database_url, max_size=2)
        try:
            return await demo.load_demo(pool, county, force)
        finally:
            await pool.close()

    with console.status(f"loading demo county {county}…"):
        result = asyncio.run(run())
    if notify:
        announce(settings, "boundaries", 0, f"demo county {county} loaded")
    console.print("demo data: " + ", ".join(f"{k} {v}" for k, v in result.items()) + " (polygons synthetic)")


if __name__ == "__main__":
    app()
