"""The case lifecycle: step deadlines, supervision, rework and extension counts, enforcement progress,
step SLAs as data, content-addressed media, and refused commands.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

CASE_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("step", sa.Text, nullable=False, server_default="accept"),
    sa.Column("step_due_at", TZ, nullable=True),
    sa.Column("closed_at", TZ, nullable=True),
    sa.Column("reporters", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("rework_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("extension_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("supervision_level", sa.Integer, nullable=False, server_default="0"),
    sa.Column("merged_into", pg.UUID, nullable=True),
    sa.Column("detail", pg.JSONB, nullable=False, server_default="{}"),
)


def upgrade() -> None:
    for column in CASE_COLUMNS:
        op.add_column("cases", column)
    op.create_index("cases_step_due", "cases", ["step_due_at"], postgresql_where=sa.text("closed_at IS NULL"))
    op.create_index("cases_category_opened", "cases", ["category", "opened_at"])
    op.add_column("case_events", sa.Column("split_at", TZ, nullable=True))

    op.create_table(
        "step_slas",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("priority", sa.Text, nullable=True),
        sa.Column("accept_minutes", sa.Integer, nullable=False),
        sa.Column("verify_minutes", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("valid_from", sa.Date, nullable=False, server_default=sa.text("'1900-01-01'")),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.CheckConstraint("accept_minutes > 0 AND verify_minutes > 0", name="step_slas_positive"),
    )
    op.create_index("step_slas_unit", "step_slas", ["unit_code"])

    op.create_table(
        "supervisions",
        sa.Column("case_id", pg.UUID, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("by_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("notified", pg.ARRAY(sa.Text), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq"),
    )
    op.create_index("supervisions_notified", "supervisions", ["notified"], postgresql_using="gin")

    op.create_table(
        "media",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("uploaded_by", sa.Text, nullable=False),
        sa.Column("uploaded_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="media_sha256"),
    )

    op.create_table(
        "command_refusals",
        sa.Column("command_id", pg.UUID, primary_key=True),
        sa.Column("case_id", pg.UUID, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("command_refusals", "media", "supervisions", "step_slas"):
        op.drop_table(table)
    op.drop_column("case_events", "split_at")
    op.drop_index("cases_category_opened", "cases")
    op.drop_index("cases_step_due", "cases")
    for column in reversed(CASE_COLUMNS):
        op.drop_column("cases", column.name)
