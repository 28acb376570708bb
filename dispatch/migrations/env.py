"""Alembic environment: runs migrations as the owner role (GRID_DATABASE_OWNER_URL) on the application's database.

Every migration runs as the owner: the tables it creates belong to the owner, and the application role (the user of
GRID_DATABASE_URL, named to migrations as `app_role`) gets what 0008's default privileges grant it."""

import asyncio

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from dispatch.settings import CommonSettings

config = context.config


def _url() -> str:
    explicit = config.attributes.get("url")
    return str(explicit) if explicit else CommonSettings().migration_url


config.attributes.setdefault("app_role", make_url(CommonSettings().database_url).username or "grid")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
