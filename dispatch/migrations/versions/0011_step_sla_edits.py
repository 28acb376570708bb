"""Step SLAs edited through the API and gridctl: their audit trail (step_sla_changes, with the reason) and one open
policy per unit, category and priority.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("step_slas", sa.Column("note", sa.Text, nullable=False, server_default=""))
    # Rows written by hand before edits were audited may repeat a key: the newest stays open, the others end.
    op.execute(
        "UPDATE step_slas s SET valid_to = greatest(s.valid_from, current_date) WHERE s.valid_to IS NULL"
        " AND EXISTS (SELECT 1 FROM step_slas t WHERE t.valid_to IS NULL AND t.id > s.id AND t.unit_code = s.unit_code"
        " AND t.category IS NOT DISTINCT FROM s.category AND t.priority IS NOT DISTINCT FROM s.priority)"
    )
    op.execute(
        "CREATE UNIQUE INDEX step_slas_open_key ON step_slas"
        " (unit_code, coalesce(category, ''), coalesce(priority, '')) WHERE valid_to IS NULL"
    )
    op.create_table(
        "step_sla_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("policy_id", sa.BigInteger, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("before", JSONB, nullable=True),
        sa.Column("after", JSONB, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("action IN ('create', 'replace', 'end')", name="step_sla_changes_action"),
    )
    op.create_index("step_sla_changes_unit", "step_sla_changes", ["unit_code", "changed_at"])


def downgrade() -> None:
    op.drop_table("step_sla_changes")
    op.execute("DROP INDEX step_slas_open_key")
    op.drop_column("step_slas", "note")
