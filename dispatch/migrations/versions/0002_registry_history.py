"""Registry history: lineage of units and grids, redistricting plans, and the audit of rule changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "redistricting_plans",
        sa.Column("plan_id", sa.Text, primary_key=True),
        sa.Column("county", sa.Text, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", pg.JSONB, nullable=False),
        sa.Column("applied_by", sa.Text, nullable=False),
        sa.Column("applied_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("transfers_done_at", TZ, nullable=True),
    )
    op.create_table(
        "unit_lineage",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("from_code", sa.Text, nullable=False),
        sa.Column("to_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("plan_id", sa.Text, sa.ForeignKey("redistricting_plans.plan_id"), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.CheckConstraint(
            "kind in ('merged_into','recoded_to','renamed','part_transferred_to','split_into')", name="lineage_kind"
        ),
    )
    op.create_index("unit_lineage_from", "unit_lineage", ["from_code"])
    op.create_index("unit_lineage_to", "unit_lineage", ["to_code"])
    op.create_table(
        "routing_rule_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("rule_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("before", pg.JSONB, nullable=True),
        sa.Column("after", pg.JSONB, nullable=True),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("action in ('create','update','retire')", name="rule_change_action"),
    )


def downgrade() -> None:
    op.drop_table("routing_rule_changes")
    op.drop_table("unit_lineage")
    op.drop_table("redistricting_plans")
