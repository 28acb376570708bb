"""Migration 0007 grants, from the data already there, what the running product would have granted: each file to
its uploader, the media of a case's events to the case, cited evidence to the case; a hash in a text nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from tests.integration.harness import VENV_BIN, pool_on, scratch_stack

PHOTO, PROOF, MENTIONED = "a" * 64, "b" * 64, "c" * 64


async def test_the_migration_backfills_grants_from_uploads_event_media_and_evidence() -> None:
    case = uuid.uuid4()
    source = {"event_id": str(uuid.uuid4()), "description": f"见 {MENTIONED}", "media": [{"sha256": PHOTO}]}
    entries = [
        ("registered", {"source": source}),
        ("verified", {"finding": "属实", "evidence": [{"sha256": PROOF, "kind": "photo"}]}),
        ("supervised", {"reason": f"请核对 {MENTIONED}"}),
    ]
    with scratch_stack() as ts:
        ts.run(str(VENV_BIN / "gridctl"), "migrate", "0005")
        # Before 0008 the application role has no rights yet: the data of that time is put there by the owner.
        async with pool_on(ts, as_owner=True) as db:
            await db.executemany(
                "INSERT INTO media (sha256, content_type, size, uploaded_by) VALUES ($1, 'image/png', 10, $2)",
                [(PHOTO, "gm-1"), (PROOF, "off-1"), (MENTIONED, "gm-other")],
            )
            await db.executemany(
                "INSERT INTO case_log (case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash,"
                " hash) VALUES ($1, $2, $3, $4, 'x', 'system', $5, $6::jsonb, '', '')",
                [
                    (case, n, uuid.uuid4(), kind, datetime.now(UTC), json.dumps(p))
                    for n, (kind, p) in enumerate(entries)
                ],
            )
        ts.run(str(VENV_BIN / "gridctl"), "migrate")
        async with pool_on(ts) as db:
            rows = await db.fetch(
                "SELECT media_hash, case_id, person_id, kind FROM media_grants ORDER BY kind, media_hash"
            )
    assert [tuple(r.values()) for r in rows] == [
        (PHOTO, case, None, "case"),
        (PROOF, case, None, "evidence"),
        (PHOTO, None, "gm-1", "reporter"),
        (PROOF, None, "off-1", "reporter"),
        (MENTIONED, None, "gm-other", "reporter"),
    ]
