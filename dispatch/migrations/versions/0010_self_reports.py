"""How each township verifies a case its own assignee reported (self_report_policies), with its audit trail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "self_report_policies",
        sa.Column("unit_code", sa.Text, primary_key=True),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("unit_code ~ '^([0-9]{6}|[0-9]{9})$'", name="self_report_policies_unit"),
        sa.CheckConstraint("policy IN ('reporter_report', 'duty_post')", name="self_report_policies_policy"),
    )
    op.create_table(
        "self_report_policy_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("before", JSONB, nullable=True),
        sa.Column("after", JSONB, nullable=True),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("action IN ('set', 'clear')", name="self_report_policy_changes_action"),
    )


def downgrade() -> None:
    op.drop_table("self_report_policy_changes")
    op.drop_table("self_report_policies")
