"""Seals and anchors of the case log, as `gridctl audit verify` judges them: what each kind of tampering looks like."""

from __future__ import annotations

from dataclasses import replace

from dispatch.cases.anchors import Anchored, PendingHeads
from dispatch.cases.audit import anchor_breaks, first_break
from dispatch.cases.machine import LogEntry
from dispatch.cases.seal import AuditKeys, Seal, key_id
from dispatch.cases.store import sealed
from tests.unit.cases.test_machine import MEMBER, Case, through_handling

OLD, NEW = "old-key-" + "o" * 40, "new-key-" + "n" * 40


def sealed_log(keys: AuditKeys) -> list[LogEntry]:
    """A case's log of five entries, sealed as the writer stores it."""
    case = Case()
    through_handling(case, MEMBER)
    return sealed(case.log, keys)


def anchored(log: list[LogEntry], baseline: int | None = None) -> Anchored:
    """Anchors holding each entry of the log, and a baseline holding the case up to that entry (0: not at all)."""
    found = Anchored(entries={log[0].case_id: {e.seq: e.anchor for e in log}})
    if baseline is not None:
        found.baseline = {log[0].case_id: baseline} if baseline else {}
    return found


def test_a_key_is_named_by_a_digest_and_seals_only_with_itself() -> None:
    keys = AuditKeys.of(NEW)
    seal = keys.seal("the entry's hash")
    assert seal.key_id == key_id(NEW) and NEW not in seal.key_id
    assert keys.verdict(seal, "the entry's hash") is None
    assert keys.verdict(seal, "another hash") == f"its seal (key {key_id(NEW)}) does not match"
    forged = Seal(key_id(NEW), AuditKeys.of(OLD).seal("the entry's hash").mac)
    assert keys.verdict(forged, "the entry's hash") is not None


def test_after_a_rotation_the_previous_key_verifies_what_it_sealed_and_the_new_one_seals() -> None:
    before = AuditKeys.of(OLD).seal("h")
    rotated = AuditKeys.of(NEW, [OLD])
    assert rotated.verdict(before, "h") is None
    assert rotated.seal("h").key_id == key_id(NEW)
    assert AuditKeys.of(NEW).verdict(before, "h") == f"sealed with unknown key {key_id(OLD)}"


def test_an_intact_sealed_log_passes() -> None:
    log = sealed_log(AuditKeys.of(NEW))
    assert len(log) >= 4 and first_break(log, AuditKeys.of(NEW)) is None
    assert anchor_breaks(log[0].case_id, log, anchored(log)) == []


def test_a_recomputed_chain_breaks_the_seals() -> None:
    keys = AuditKeys.of(NEW)
    log = sealed_log(keys)
    edited = replace(log[2], payload={"forged": True})
    other = Case()
    through_handling(other, MEMBER)
    recomputed = [replace(e, seal=log[i].seal) for i, e in enumerate(other.log)]
    assert first_break([*log[:2], edited, *log[3:]], keys) is not None
    assert "does not match" in (first_break(recomputed, keys) or "")


def test_stripping_the_seals_is_caught_by_order_and_by_the_anchors() -> None:
    keys = AuditKeys.of(NEW)
    log = sealed_log(keys)
    half_stripped = [*log[:2], *(replace(e, seal=None) for e in log[2:])]
    assert "unsealed after sealed entries" in (first_break(half_stripped, keys) or "")
    stripped = [replace(e, seal=None) for e in log]
    assert first_break(stripped, keys) is None, "an unkeyed chain alone still holds"
    problems = anchor_breaks(log[0].case_id, stripped, anchored(log, baseline=0))
    assert any("does not match its anchor" in p for p in problems)
    assert any("unsealed, yet the anchors' baseline does not hold it" in p for p in problems)


def test_entries_from_before_the_key_pass_when_the_baseline_holds_them() -> None:
    keys = AuditKeys.of(NEW)
    legacy = [replace(e, seal=None) for e in sealed_log(keys)]
    baseline = anchored(legacy, baseline=legacy[-1].seq)
    assert first_break(legacy, keys) is None
    assert anchor_breaks(legacy[0].case_id, legacy, baseline) == []


def test_a_cut_tail_leaves_an_intact_chain_but_misses_its_anchor() -> None:
    keys = AuditKeys.of(NEW)
    log = sealed_log(keys)
    cut = log[:-2]
    assert first_break(cut, keys) is None
    assert anchor_breaks(log[0].case_id, cut, anchored(log)) == [
        f"case {log[0].case_id}: anchored entry {log[-1].seq} is missing, the log ends at entry {cut[-1].seq}"
        " (its tail was cut)"
    ]
    assert "the log ends at entry 0" in anchor_breaks(log[0].case_id, [], anchored(log))[0]
    holed = [e for e in log if e.seq != 2]
    assert anchor_breaks(log[0].case_id, holed, anchored(log)) == [
        f"case {log[0].case_id}: anchored entry 2 is missing, the log ends at entry {log[-1].seq} (deleted)"
    ]


def test_pending_heads_keep_the_newest_entry_of_each_case_until_taken() -> None:
    log = sealed_log(AuditKeys.of(NEW))
    heads = PendingHeads()
    heads.note(log[:3])
    heads.merge({log[0].case_id: (1, "older")})
    assert heads.take() == {log[0].case_id: (3, log[2].anchor)}
    assert heads.take() == {}
