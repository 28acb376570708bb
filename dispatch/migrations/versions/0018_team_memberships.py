"""Team memberships: where a person served (unit and team) and when, a row per period, so moving an officer ends one
membership and starts another instead of overwriting `people.unit_code`/`team_id` (which keep the latest one).
Backfilled from the people rows; a new person's first membership and the end of a person's service are kept by
triggers, so every writer of `people` keeps the history whole.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TRIGGERS = (
    """CREATE FUNCTION people_first_membership() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO team_memberships (person_id, unit_code, team_id, valid_from, valid_to)
        VALUES (NEW.id, NEW.unit_code, NEW.team_id, NEW.valid_from, NEW.valid_to);
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER people_first_membership AFTER INSERT ON people"
    " FOR EACH ROW EXECUTE FUNCTION people_first_membership()",
    """CREATE FUNCTION people_end_membership() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE team_memberships SET valid_to = greatest(valid_from, NEW.valid_to)
        WHERE person_id = NEW.id AND (valid_to IS NULL OR valid_to > NEW.valid_to);
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER people_end_membership AFTER UPDATE OF valid_to ON people"
    " FOR EACH ROW WHEN (NEW.valid_to IS NOT NULL) EXECUTE FUNCTION people_end_membership()",
)


def upgrade() -> None:
    op.create_table(
        "team_memberships",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("person_id", sa.Text, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("unit_code", sa.Text, nullable=False),
        sa.Column("team_id", sa.Text, nullable=True),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("plan_id", sa.Text, nullable=True),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="team_memberships_period"),
    )
    op.create_index("team_memberships_person", "team_memberships", ["person_id", "valid_from"])
    op.create_index("team_memberships_team", "team_memberships", ["team_id"])
    op.execute(
        "INSERT INTO team_memberships (person_id, unit_code, team_id, valid_from, valid_to)"
        " SELECT id, unit_code, team_id, valid_from, valid_to FROM people"
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS people_end_membership ON people")
    op.execute("DROP TRIGGER IF EXISTS people_first_membership ON people")
    op.execute("DROP FUNCTION IF EXISTS people_end_membership()")
    op.execute("DROP FUNCTION IF EXISTS people_first_membership()")
    op.drop_table("team_memberships")
