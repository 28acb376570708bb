"""Who may read which media file: an explicit grant per reporter, case and evidence, and media bytes per account a day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
SOURCE_MEDIA = (
    "SELECT DISTINCT m ->> 'sha256', l.case_id, 'case' FROM case_log l,"
    " jsonb_array_elements(COALESCE(l.payload -> 'source' -> 'media', '[]'::jsonb)) m"
    " WHERE l.kind IN ('registered', 'attached')"
)
EVIDENCE = (
    "SELECT DISTINCT e ->> 'sha256', l.case_id, 'evidence' FROM case_log l,"
    " jsonb_array_elements(COALESCE(l.payload -> 'evidence', '[]'::jsonb)) e"
    " WHERE l.kind IN ('verified', 'submitted', 'stage')"
)


def upgrade() -> None:
    op.create_table(
        "media_grants",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("media_hash", sa.Text, nullable=False),
        sa.Column("case_id", pg.UUID, nullable=True),
        sa.Column("person_id", sa.Text, nullable=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("granted_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('reporter', 'case', 'evidence')", name="media_grants_kind"),
        sa.CheckConstraint(
            "(kind = 'reporter') = (person_id IS NOT NULL AND case_id IS NULL)"
            " AND (kind = 'reporter' OR case_id IS NOT NULL)",
            name="media_grants_grantee",
        ),
    )
    op.create_index(
        "media_grants_case",
        "media_grants",
        ["media_hash", "case_id", "kind"],
        unique=True,
        postgresql_where=sa.text("case_id IS NOT NULL"),
    )
    op.create_index(
        "media_grants_person",
        "media_grants",
        ["media_hash", "person_id"],
        unique=True,
        postgresql_where=sa.text("person_id IS NOT NULL"),
    )
    op.create_index("media_grants_of_case", "media_grants", ["case_id"])
    op.execute(
        "INSERT INTO media_grants (media_hash, person_id, kind, granted_at)"
        " SELECT sha256, uploaded_by, 'reporter', uploaded_at FROM media"
    )
    op.execute(
        f"INSERT INTO media_grants (media_hash, case_id, kind) {SOURCE_MEDIA} UNION {EVIDENCE} ON CONFLICT DO NOTHING"
    )
    op.create_table(
        "media_quota",
        sa.Column("account", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("bytes", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("media_quota")
    op.drop_table("media_grants")
