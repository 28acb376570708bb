"""Cameras and sensors: versioned rows (id, valid_from) with location, owning unit and live-view address.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sensor_kind", sa.Text, nullable=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("live_url", sa.Text, nullable=True),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", "valid_from"),
        sa.CheckConstraint("kind IN ('camera', 'sensor')", name="devices_kind"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="devices_period"),
    )
    op.create_index("devices_unit", "devices", ["unit_code"])


def downgrade() -> None:
    op.drop_table("devices")
