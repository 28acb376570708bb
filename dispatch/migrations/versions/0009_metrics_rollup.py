"""The metrics rollup: per case, what the metrics fold of its log beyond the case record, kept by the case writer and
backfilled here from the existing log; indexes for the periods' case selection and for the public decision feed.

The backfill sums a step's minutes in SQL, where the writer adds them one interval at a time: the two may differ in a
float's last bit, which the metrics' rounding to 0.1 minute hides.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

BACKFILL = """
WITH steps AS (
    SELECT case_id, seq, at, payload->>'step' AS step, lead(at) OVER (PARTITION BY case_id ORDER BY seq) AS next_at
    FROM case_log WHERE payload->>'step' IS NOT NULL
), per_step AS (
    SELECT case_id, step, (sum(extract(epoch FROM next_at - at)) / 60)::float8 AS minutes
    FROM steps WHERE next_at IS NOT NULL GROUP BY case_id, step
), minutes AS (
    SELECT case_id, jsonb_object_agg(step, minutes) AS step_minutes FROM per_step GROUP BY case_id
), since AS (
    SELECT DISTINCT ON (case_id) case_id, step, at FROM steps ORDER BY case_id, seq DESC
), flags AS (
    SELECT case_id,
           bool_or(kind = 'checked') AS checked,
           bool_or(kind = 'checked' AND NOT (payload->>'passed')::boolean) AS reworked,
           bool_or(kind = 'extension_decided' AND (payload->>'granted')::boolean) AS extended,
           max(at) AS last_at
    FROM case_log GROUP BY case_id
)
INSERT INTO metrics_rollup (case_id, checked, reworked, extended, step_minutes, step_since, step_since_at, last_at)
SELECT f.case_id, f.checked, f.reworked, f.extended, coalesce(m.step_minutes, '{}'::jsonb), s.step, s.at, f.last_at
FROM flags f LEFT JOIN minutes m USING (case_id) LEFT JOIN since s USING (case_id)
"""


def upgrade() -> None:
    op.create_table(
        "metrics_rollup",
        sa.Column("case_id", pg.UUID, primary_key=True),
        sa.Column("checked", sa.Boolean, nullable=False),
        sa.Column("reworked", sa.Boolean, nullable=False),
        sa.Column("extended", sa.Boolean, nullable=False),
        sa.Column("step_minutes", pg.JSONB, nullable=False),
        sa.Column("step_since", sa.Text, nullable=True),
        sa.Column("step_since_at", TZ, nullable=True),
        sa.Column("last_at", TZ, nullable=False),
    )
    op.execute(BACKFILL)
    op.create_index("cases_opened", "cases", ["opened_at"])
    op.create_index("cases_closed", "cases", ["closed_at"])
    op.create_index(
        "case_log_decisions",
        "case_log",
        [sa.text("at DESC"), sa.text("case_id DESC"), sa.text("seq DESC")],
        postgresql_where=sa.text("kind = 'stage' AND payload->>'stage' = 'decide'"),
    )


def downgrade() -> None:
    op.drop_index("case_log_decisions", "case_log")
    op.drop_index("cases_closed", "cases")
    op.drop_index("cases_opened", "cases")
    op.drop_table("metrics_rollup")
