"""Sessions bound to live accounts: a session epoch per account (a password change or disabling moves it on, and
every access token carries it), an index to find a user's revoked sign-ins, and no more account lockout (sign-in
is slowed per name and address instead, so a stranger cannot lock a real user out).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("users", sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"))
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")
    op.create_index(
        "refresh_tokens_revoked",
        "refresh_tokens",
        ["username", "revoked_at"],
        postgresql_where=sa.text("revoked_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("refresh_tokens_revoked", "refresh_tokens")
    op.add_column("users", sa.Column("locked_until", TZ, nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
    op.drop_column("users", "session_epoch")
