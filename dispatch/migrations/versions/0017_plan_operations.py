"""Plan operations: a township divided among several successors (`divided_into`), and each lineage edge may say
what share went where (`share`: the villages moved and the fraction of the old unit's area).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

KINDS = ("merged_into", "recoded_to", "renamed", "part_transferred_to", "split_into")


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind in (" + ",".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    op.add_column("unit_lineage", sa.Column("share", pg.JSONB, nullable=True))
    op.drop_constraint("lineage_kind", "unit_lineage", type_="check")
    op.create_check_constraint("lineage_kind", "unit_lineage", _kinds((*KINDS, "divided_into")))


def downgrade() -> None:
    op.execute("DELETE FROM unit_lineage WHERE kind = 'divided_into'")
    op.drop_constraint("lineage_kind", "unit_lineage", type_="check")
    op.create_check_constraint("lineage_kind", "unit_lineage", _kinds(KINDS))
    op.drop_column("unit_lineage", "share")
