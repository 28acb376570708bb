"""Categories as data: the 大类/小类 table (seeded from dispatch/data/categories.csv) and the ten legacy English
categories rewritten as codes: a case's or unrouted event's category as its 大类's general 小类 (xx99), a routing
rule's or step SLA's as the whole 大类. The case log keeps what was written (the contracts read a legacy value as its
code); the audit trails keep what they recorded.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
SEED = Path(__file__).parents[2] / "data" / "categories.csv"
# Frozen here as this migration met them (core.categories.LEGACY_MAJORS is the live contract).
LEGACY = {
    "environment": "01",
    "other": "06",
    "dispute": "07",
    "safety": "08",
    "market": "09",
    "illegal_construction": "10",
    "flood": "11",
    "fire": "12",
    "public_order": "13",
    "road": "14",
}
AS_MINOR = ("cases", "unrouted_events")
AS_MAJOR = ("routing_rules", "step_slas")


def _legacy_values() -> str:
    return ", ".join(f"('{old}', '{code}')" for old, code in LEGACY.items())


def upgrade() -> None:
    categories = op.create_table(
        "categories",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name_zh", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("updated_by", sa.Text, nullable=False, server_default="seed"),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("code ~ '^[0-9]{2}([0-9]{2})?$'", name="categories_code"),
        sa.CheckConstraint("name_zh <> '' AND name_en <> ''", name="categories_names"),
    )
    with SEED.open(encoding="utf-8", newline="") as f:
        rows = [{**r, "position": i} for i, r in enumerate(csv.DictReader(f))]
    op.bulk_insert(categories, rows)
    legacy = _legacy_values()
    for table in AS_MINOR:
        op.execute(
            f"UPDATE {table} t SET category = l.code || '99' FROM (VALUES {legacy}) AS l(old, code)"
            " WHERE t.category = l.old"
        )
    for table in AS_MAJOR:
        op.execute(
            f"UPDATE {table} t SET category = l.code FROM (VALUES {legacy}) AS l(old, code) WHERE t.category = l.old"
        )


def downgrade() -> None:
    legacy = _legacy_values()
    for table in AS_MINOR:
        op.execute(
            f"UPDATE {table} t SET category = l.old FROM (VALUES {legacy}) AS l(old, code)"
            " WHERE left(t.category, 2) = l.code"
        )
    for table in AS_MAJOR:
        op.execute(
            f"UPDATE {table} t SET category = l.old FROM (VALUES {legacy}) AS l(old, code)"
            " WHERE left(t.category, 2) = l.code"
        )
    op.drop_table("categories")
