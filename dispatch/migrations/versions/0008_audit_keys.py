"""The record holds against its operator: log entries sealed with a key outside the database (key id and MAC), and
the application role reduced to what it uses: INSERT and SELECT on the log, no ownership anywhere.

From here on every migration runs as the owner role (gridctl migrate uses GRID_DATABASE_OWNER_URL). The default
privileges below give the application role SELECT, INSERT, UPDATE and DELETE on each table a later migration
creates; a later append-only table revokes UPDATE and DELETE itself, as this one does for case_log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


def upgrade() -> None:
    app, owner = _roles()
    op.add_column("case_log", sa.Column("key_id", sa.Text, nullable=True))
    op.add_column("case_log", sa.Column("mac", sa.Text, nullable=True))
    op.create_check_constraint("case_log_sealed", "case_log", "(key_id IS NULL) = (mac IS NULL)")
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}",
        f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA public TO {app}",
        f"REVOKE {TABLE_RIGHTS} ON case_log, alembic_version FROM {app}",
        f"GRANT SELECT, INSERT ON case_log TO {app}",
        f"GRANT SELECT ON alembic_version TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT {TABLE_RIGHTS} ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ):
        op.execute(statement)


def downgrade() -> None:
    app, owner = _roles()
    op.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {app}")
    op.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public REVOKE ALL ON TABLES FROM {app}")
    op.drop_constraint("case_log_sealed", "case_log")
    op.drop_column("case_log", "mac")
    op.drop_column("case_log", "key_id")


def _roles() -> tuple[str, str]:
    """The application role and the owner (the role migrating), quoted; refuses to migrate as the application role,
    or while it still owns a table or the database (infra/stack.sh up reassigns them: infra/README.md)."""
    bind = op.get_bind()
    app = str(op.get_context().config.attributes.get("app_role", "grid"))  # type: ignore[union-attr]
    owner = str(bind.execute(sa.text("SELECT current_user")).scalar_one())
    if app == owner:
        raise RuntimeError(
            f"migrations run as the owner role, not as the application role {app}: set GRID_DATABASE_OWNER_URL"
        )
    if bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :app"), {"app": app}).first() is None:
        raise RuntimeError(f"the application role {app} (the user of GRID_DATABASE_URL) does not exist")
    owned = bind.execute(
        sa.text(
            "SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_class"
            " WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = :app)"
            " UNION ALL SELECT datname FROM pg_database"
            " WHERE datname = current_database() AND datdba = (SELECT oid FROM pg_roles WHERE rolname = :app)"
        ),
        {"app": app},
    ).scalars()
    found = [name for name in owned if name]
    if found:
        raise RuntimeError(
            f"the application role {app} still owns {', '.join(found)}: as a superuser, REASSIGN OWNED BY {app}"
            f" TO {owner} in this database first (infra/stack.sh up does it for the local stack)"
        )
    quote = bind.dialect.identifier_preparer.quote
    return quote(app), quote(owner)
