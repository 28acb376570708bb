"""Each person's inbox (notices derived from case events and the clock), the channels each kind goes out on, the
group robots (webhooks) of townships and teams, and the outbox of deliveries.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
KINDS = (
    "('dispatched', 'returned', 'supervised', 'review_requested', 'extension_requested', 'extension_decided',"
    " 'deadline')"
)
DEFAULT_CHANNELS = [
    ("dispatched", "sms"),
    ("dispatched", "webhook"),
    ("supervised", "sms"),
    ("supervised", "webhook"),
    ("deadline", "sms"),
    ("returned", "webhook"),
    ("review_requested", "sms"),
]


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("case_id", UUID, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("township_code", sa.Text, nullable=True),
        sa.Column("text_zh", sa.Text, nullable=False),
        sa.Column("text_en", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("read_at", TZ, nullable=True),
        sa.UniqueConstraint("case_id", "source", "kind", "person_id", name="notices_once"),
        sa.CheckConstraint(f"kind IN {KINDS}", name="notices_kind"),
    )
    op.create_index("notices_of_person", "notices", ["person_id", sa.text("id DESC")])
    op.create_index("notices_unread", "notices", ["person_id"], postgresql_where=sa.text("read_at IS NULL"))
    op.create_table(
        "notice_channels",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("kind", "channel"),
        sa.CheckConstraint(f"kind IN {KINDS}", name="notice_channels_kind"),
        sa.CheckConstraint("channel IN ('sms', 'webhook')", name="notice_channels_channel"),
    )
    op.bulk_insert(
        sa.table("notice_channels", sa.column("kind"), sa.column("channel")),
        [{"kind": k, "channel": c} for k, c in DEFAULT_CHANNELS],
    )
    op.create_table(
        "delivery_webhooks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=True),
        sa.Column("team_id", sa.Text, nullable=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("(unit_code IS NULL) <> (team_id IS NULL)", name="delivery_webhooks_owner"),
        sa.CheckConstraint("url ~ '^https?://'", name="delivery_webhooks_url"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("notice_id", sa.BigInteger, sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("dedupe", sa.Text, nullable=False),
        sa.Column("idempotency_key", UUID, nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("next_attempt_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("lease_until", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("channel", "target", "dedupe", name="deliveries_once"),
        sa.UniqueConstraint("idempotency_key", name="deliveries_key"),
        sa.CheckConstraint("channel IN ('sms', 'webhook')", name="deliveries_channel"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="deliveries_status"),
    )
    op.create_index(
        "deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("deliveries_of_notice", "deliveries", ["notice_id"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("delivery_webhooks")
    op.drop_table("notice_channels")
    op.drop_table("notices")
