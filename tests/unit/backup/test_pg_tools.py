"""What of a dump a restore replays, how the client programs are given the password, and the restore's own checks."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.backup.database import CLEAR, Target, checks, grantees
from dispatch.backup.manifest import Counts, Manifest
from dispatch.backup.pg_tools import Connection, restorable

TOC = """;
; Archive created at 2026-12-01 07:12:56 UTC
;     Format: CUSTOM
;
; Selected TOC Entries:
;
4599; 0 0 ACL - SCHEMA public pg_database_owner
2; 3079 16387 EXTENSION - postgis
4600; 0 0 COMMENT - EXTENSION postgis
999; 1255 17562 FUNCTION public case_log_append_only() grid_owner
254; 1259 17552 TABLE public case_log grid_owner
255; 1259 17541 TABLE public cases grid_owner
4227; 0 16700 TABLE DATA public spatial_ref_sys postgres
4548; 0 17552 TABLE DATA public case_log grid_owner
4549; 0 17541 TABLE DATA public cases grid_owner
4400; 2620 17563 TRIGGER public case_log case_log_no_update grid_owner
4601; 0 0 ACL public TABLE case_log grid_owner
3037; 826 17768 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES grid_owner
"""


def test_a_restore_replays_our_objects_and_grants_but_not_postgis() -> None:
    kept = restorable(TOC).splitlines()
    assert not any("EXTENSION" in line or "spatial_ref_sys" in line for line in kept)
    assert "4548; 0 17552 TABLE DATA public case_log grid_owner" in kept
    assert "4601; 0 0 ACL public TABLE case_log grid_owner" in kept
    assert "3037; 826 17768 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES grid_owner" in kept
    assert "4599; 0 0 ACL - SCHEMA public pg_database_owner" in kept
    assert len(kept) == 9


def test_the_password_goes_in_the_environment_not_the_command_line() -> None:
    conn = Connection.of("postgresql://grid_owner:s%40cret@127.0.0.1:25432/grid?sslmode=disable")
    assert conn.url == "postgresql://grid_owner@127.0.0.1:25432/grid?sslmode=disable"
    assert conn.env()["PGPASSWORD"] == "s@cret"
    assert Connection.of("postgresql:///grid").password == ""


def _manifest() -> Manifest:
    return Manifest(
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        product_version="0.1.0",
        git_revision="abc",
        postgres_version="15.18",
        alembic_revision="0010",
        registry_revisions={},
        counts=Counts(cases=2, log_entries=9, media=1),
        grants=["case_log grid SELECT", "case_log grid INSERT", "cases PUBLIC SELECT", "o'dd grid SELECT"],
        members={},
    )


def test_the_restore_checks_the_backups_rights_and_counts_before_it_commits() -> None:
    sql = checks(_manifest())
    assert "'case_log grid INSERT\ncase_log grid SELECT\ncases PUBLIC SELECT\no''dd grid SELECT'" in sql
    assert "'2 9 1'" in sql
    assert "RAISE EXCEPTION" in sql
    assert CLEAR == "DROP OWNED BY CURRENT_USER"
    assert grantees(_manifest()) == {"grid"}


def test_a_restore_is_refused_for_each_reason_at_once() -> None:
    busy = Target(name="grid", server_major=15, tables=30, postgis=None, sessions=["grid"], roles={"grid_owner"})
    problems = busy.refusals({"grid"}, force=False)
    assert len(problems) == 4
    assert "database grid is not empty (30 tables)" in problems[0]
    assert "--force" in problems[0]
    forced = busy.refusals({"grid"}, force=True)
    assert len(forced) == 3, "--force replaces tables, but never runs beside the application"
    empty = Target(name="grid", server_major=15, tables=0, postgis="3.3.2", sessions=[], roles={"grid"})
    assert empty.refusals({"grid"}, force=False) == []
