"""The backbone: admin units, grids, people and teams, routing rules, cases and their log, queues.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _area() -> Geometry:
    return Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)


def _point() -> Geometry:
    return Geometry("POINT", srid=4326, spatial_index=False)


def _validity() -> list[sa.Column[object]]:
    return [
        sa.Column("valid_from", sa.Date, nullable=False, server_default=sa.text("'1900-01-01'")),
        sa.Column("valid_to", sa.Date, nullable=True),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "admin_units",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("parent_code", sa.Text, nullable=True),
        sa.Column("statistical_only", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("synthetic_geometry", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("geom", _area(), nullable=True),
        *_validity(),
        sa.CheckConstraint("level in ('city','county','township','village')", name="admin_units_level"),
        sa.UniqueConstraint("code", "valid_from", name="admin_units_code_from"),
    )
    op.create_index("admin_units_geom", "admin_units", ["geom"], postgresql_using="gist")
    op.create_index("admin_units_parent", "admin_units", ["parent_code"])

    op.create_table(
        "grids",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("village_code", sa.Text, nullable=False),
        sa.Column("township_code", sa.Text, nullable=False),
        sa.Column("county_code", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("households", sa.Integer, nullable=False, server_default="0"),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("synthetic_geometry", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("geom", _area(), nullable=False),
        *_validity(),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name="grids_code_format"),
        sa.CheckConstraint("kind in ('residential','commercial','rural','special')", name="grids_kind"),
        sa.UniqueConstraint("code", "valid_from", name="grids_code_from"),
    )
    op.create_index("grids_geom", "grids", ["geom"], postgresql_using="gist")
    op.create_index("grids_township", "grids", ["township_code"])

    op.create_table(
        "people",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text, nullable=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("team_id", sa.Text, nullable=True),
        *_validity(),
    )

    op.create_table(
        "teams",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("agency_type", sa.Text, nullable=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        *_validity(),
        sa.CheckConstraint("kind in ('enforcement','agency')", name="teams_kind"),
        sa.CheckConstraint("(kind = 'agency') = (agency_type is not null)", name="teams_agency_type"),
    )
    op.create_index("teams_unit", "teams", ["unit_code"])

    op.create_table(
        "grid_posts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("grid_code", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("post", sa.Text, nullable=False),
        *_validity(),
        sa.CheckConstraint("post in ('full_time','part_time')", name="grid_posts_post"),
    )
    op.create_index("grid_posts_grid", "grid_posts", ["grid_code"])

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("event_type", sa.Text, nullable=True),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("min_severity", sa.Text, nullable=True),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("agency_type", sa.Text, nullable=True),
        sa.Column("priority", sa.Text, nullable=True),
        sa.Column("sla_hours", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        *_validity(),
        sa.CheckConstraint("target in ('grid_member','team','agency')", name="routing_rules_target"),
        sa.CheckConstraint("(target = 'agency') = (agency_type is not null)", name="routing_rules_agency"),
        sa.CheckConstraint("sla_hours > 0", name="routing_rules_sla"),
    )
    op.create_index("routing_rules_unit", "routing_rules", ["unit_code", "position"])

    op.create_table(
        "registry_revisions",
        sa.Column("part", sa.Text, primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("changed_at", TZ, nullable=False, server_default=sa.func.now()),
    )

    op.create_table(
        "cases",
        sa.Column("id", pg.UUID, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("grid_code", sa.Text, nullable=True),
        sa.Column("grid_name", sa.Text, nullable=True),
        sa.Column("village_code", sa.Text, nullable=True),
        sa.Column("township_code", sa.Text, nullable=True),
        sa.Column("township_name", sa.Text, nullable=True),
        sa.Column("assignee_kind", sa.Text, nullable=True),
        sa.Column("assignee_id", sa.Text, nullable=True),
        sa.Column("assignee_name", sa.Text, nullable=True),
        sa.Column("assignee_fallback", sa.Text, nullable=True),
        sa.Column("rule_id", sa.BigInteger, nullable=True),
        sa.Column("location", _point(), nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
    )
    op.create_index("cases_location", "cases", ["location"], postgresql_using="gist")
    op.create_index("cases_state", "cases", ["state", "opened_at"])
    op.create_index("cases_grid", "cases", ["grid_code"])

    op.create_table(
        "case_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", pg.UUID, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("command_id", pg.UUID, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("actor_role", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="case_log_seq"),
    )
    op.create_index("case_log_command", "case_log", ["case_id", "command_id"])
    op.execute(
        "CREATE FUNCTION case_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'case_log is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER case_log_no_update BEFORE UPDATE OR DELETE ON case_log"
        " FOR EACH ROW EXECUTE FUNCTION case_log_append_only()"
    )

    op.create_table(
        "case_events",
        sa.Column("event_id", pg.UUID, primary_key=True),
        sa.Column("case_id", pg.UUID, nullable=False),
        sa.Column("reporter_id", sa.Text, nullable=False),
        sa.Column("attached_at", TZ, nullable=False),
    )
    op.create_index("case_events_case", "case_events", ["case_id"])

    op.create_table(
        "ingest_receipts",
        sa.Column("event_id", pg.UUID, primary_key=True),
        sa.Column("body_sha256", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("accepted_at", TZ, nullable=True),
        sa.CheckConstraint("status in ('pending','accepted')", name="ingest_receipts_status"),
    )

    op.create_table(
        "unrouted_events",
        sa.Column("event_id", pg.UUID, primary_key=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("location", _point(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("event", pg.JSONB, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.Column("resolved_by", sa.Text, nullable=True),
    )

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("source_topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.Column("resolved_by", sa.Text, nullable=True),
        sa.UniqueConstraint("source_topic", "partition", "offset", name="dead_letters_origin"),
    )

    op.create_table(
        "patrol_log",
        sa.Column("event_id", pg.UUID, primary_key=True),
        sa.Column("reporter_id", sa.Text, nullable=False),
        sa.Column("grid_code", sa.Text, nullable=True),
        sa.Column("location", _point(), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "patrol_log",
        "dead_letters",
        "unrouted_events",
        "ingest_receipts",
        "case_events",
        "case_log",
        "cases",
        "registry_revisions",
        "routing_rules",
        "grid_posts",
        "teams",
        "people",
        "grids",
        "admin_units",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS case_log_append_only()")
