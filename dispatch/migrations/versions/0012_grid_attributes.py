"""Grids imported from county files: the kind 城镇网格 (urban) besides residential, commercial, rural and special;
households and population are never negative.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KINDS_BEFORE = "'residential','commercial','rural','special'"
KINDS = "'urban'," + KINDS_BEFORE


def upgrade() -> None:
    op.execute("ALTER TABLE grids DROP CONSTRAINT grids_kind")
    op.execute(f"ALTER TABLE grids ADD CONSTRAINT grids_kind CHECK (kind IN ({KINDS}))")
    op.execute("ALTER TABLE grids ADD CONSTRAINT grids_counts CHECK (households >= 0 AND population >= 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE grids DROP CONSTRAINT grids_counts")
    op.execute("ALTER TABLE grids DROP CONSTRAINT grids_kind")
    op.execute(f"ALTER TABLE grids ADD CONSTRAINT grids_kind CHECK (kind IN ({KINDS_BEFORE}))")
