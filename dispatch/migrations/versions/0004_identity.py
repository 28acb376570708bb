"""Identity: user accounts bound to a role and unit, refresh tokens, the personal-data access log, shared
positions of people in the field, and how a queue item was resolved.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ROLES = (
    "system",
    "grid_member",
    "duty",
    "officer",
    "legal_reviewer",
    "agency_staff",
    "dispatcher",
    "township_leader",
    "county_supervisor",
    "admin",
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("team_id", sa.Text, nullable=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("disabled_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("password_changed_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="users_role"),
        sa.CheckConstraint("username ~ '^[A-Za-z0-9_.-]{2,64}$'", name="users_username"),
    )
    op.create_index(
        "users_person", "users", ["person_id"], unique=True, postgresql_where=sa.text("person_id IS NOT NULL")
    )

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("username", sa.Text, sa.ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
        sa.Column("family", pg.UUID, nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_index("refresh_tokens_family", "refresh_tokens", ["family"])
    op.create_index("refresh_tokens_user", "refresh_tokens", ["username"])

    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("fields", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    op.create_index("access_log_at", "access_log", ["at"])
    op.create_index("access_log_subject", "access_log", ["subject"])

    op.create_table(
        "positions",
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("accuracy_m", sa.Float, nullable=True),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("positions_unit", "positions", ["unit_code"])

    for table in ("unrouted_events", "dead_letters"):
        op.add_column(table, sa.Column("resolution", sa.Text, nullable=True))
        op.add_column(table, sa.Column("note", sa.Text, nullable=True))
        op.add_column(table, sa.Column("case_id", pg.UUID, nullable=True))


def downgrade() -> None:
    for table in ("unrouted_events", "dead_letters"):
        for column in ("case_id", "note", "resolution"):
            op.drop_column(table, column)
    for table in ("positions", "access_log", "refresh_tokens", "users"):
        op.drop_table(table)
