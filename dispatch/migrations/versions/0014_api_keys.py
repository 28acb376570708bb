"""API keys of system accounts (Open311 clients), only a digest stored; and the tokens of Open311 requests (the
event each POST became), so a token not yet routed is told from one never issued.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("digest", sa.Text, primary_key=True),
        sa.Column("username", sa.Text, sa.ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_index("api_keys_user", "api_keys", ["username"])
    op.create_table(
        "open311_tokens",
        sa.Column("token", sa.Uuid, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("posted_at", TZ, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("open311_tokens")
    op.drop_table("api_keys")
