"""What an archive may hold and how its members are checked against the manifest."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.backup.manifest import (
    ANCHORS,
    DATABASE,
    MANIFEST,
    Counts,
    Manifest,
    Member,
    known_name,
    media_hash,
    media_member,
    member_problems,
)

PHOTO = "ab" * 32
OTHER = "cd" * 32


def manifest(members: dict[str, Member]) -> Manifest:
    return Manifest(
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        product_version="0.1.0",
        git_revision=None,
        postgres_version="15.18",
        alembic_revision="0010",
        registry_revisions={"boundaries": 1},
        counts=Counts(cases=1, log_entries=3, media=1),
        grants=["case_log grid INSERT", "case_log grid SELECT"],
        members=members,
    )


def test_a_media_file_is_named_by_its_hash_in_the_media_layout() -> None:
    assert media_member(PHOTO) == f"media/ab/ab/{PHOTO}"
    assert media_hash(media_member(PHOTO)) == PHOTO
    assert media_hash(f"media/cd/ab/{PHOTO}") is None, "folders that do not match the hash"
    assert media_hash(f"media/ab/ab/{PHOTO.upper()}") is None


def test_only_the_names_a_backup_writes_are_extracted() -> None:
    for name in (MANIFEST, DATABASE, ANCHORS, media_member(PHOTO)):
        assert known_name(name)
    for name in ("../etc/passwd", "/etc/passwd", "media/../../x", f"./{DATABASE}", "anchors/other.log", ""):
        assert not known_name(name), name


def test_members_that_match_the_manifest_pass() -> None:
    members = {DATABASE: Member(sha256=OTHER, size=10), media_member(PHOTO): Member(sha256=PHOTO, size=4)}
    assert member_problems(manifest(members), members) == []


def test_every_difference_from_the_manifest_is_named() -> None:
    listed = {DATABASE: Member(sha256=OTHER, size=10), media_member(PHOTO): Member(sha256=PHOTO, size=4)}
    found = {DATABASE: Member(sha256=PHOTO, size=10), ANCHORS: Member(sha256=OTHER, size=1)}
    problems = member_problems(manifest(listed), found)
    assert f"{media_member(PHOTO)}: listed in the manifest, not in the archive" in problems
    assert f"{ANCHORS}: in the archive, not listed in the manifest" in problems
    assert f"{DATABASE}: SHA-256 {PHOTO} (10 bytes), the manifest says {OTHER}" in problems


def test_a_media_file_whose_content_is_not_its_name_is_named_even_when_listed() -> None:
    forged = {DATABASE: Member(sha256=OTHER, size=10), media_member(PHOTO): Member(sha256=OTHER, size=4)}
    problems = member_problems(manifest(forged), forged)
    assert problems == [f"{media_member(PHOTO)}: its content's SHA-256 is {OTHER}"]


def test_a_manifest_without_the_database_is_refused() -> None:
    assert member_problems(manifest({}), {}) == [f"the manifest lists no {DATABASE}"]
