"""Every decision on a queue item kept as a row of its own, so an event retried and queued again keeps its history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "queue_resolutions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("resolution", sa.Text, nullable=False),
        sa.Column("resolved_by", sa.Text, nullable=False),
        sa.Column("resolved_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("note", sa.Text, nullable=True),
        sa.CheckConstraint("queue IN ('unrouted', 'deadletter')", name="queue_resolutions_queue"),
    )
    op.create_index("queue_resolutions_item", "queue_resolutions", ["queue", "item_id"])
    op.create_index("queue_resolutions_at", "queue_resolutions", ["resolved_at"])
    op.execute(
        "INSERT INTO queue_resolutions (queue, item_id, resolution, resolved_by, resolved_at, note)"
        " SELECT 'unrouted', event_id::text, resolution, resolved_by, resolved_at, note FROM unrouted_events"
        " WHERE resolved_at IS NOT NULL AND resolution IS NOT NULL"
        " UNION ALL SELECT 'deadletter', id::text, resolution, resolved_by, resolved_at, note FROM dead_letters"
        " WHERE resolved_at IS NOT NULL AND resolution IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("queue_resolutions")
