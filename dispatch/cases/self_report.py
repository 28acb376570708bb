"""Self-reported cases: when the assignee who accepts a case is its reporter, the township's policy says how it is
verified. Under `reporter_report` the system records the reporter's on-site report as the 快速核查, with its photos."""

from __future__ import annotations

from core.cases import Actor, CaseCommand
from core.enforcement import Evidence
from core.events import MediaRef
from core.vocabulary import EvidenceKind, Role, SelfReport
from dispatch.cases.record import CaseRecord, Item, Payload

SELF_REPORT = Actor(id="system:self-report", role=Role.SYSTEM)
FINDING = "本人上报：按乡镇规定，上报人的现场上报即视为快速核查 (the reporter's on-site report counts as verification)"


def reporter_report(case: CaseRecord, cmd: CaseCommand, entered: Payload) -> list[Item]:
    """The system's verification entry when the reporter accepts their own case under `reporter_report`, or none."""
    if case.detail.self_report is not SelfReport.REPORTER_REPORT or cmd.actor.id not in case.reporters:
        return []
    media = [m for e in case.detail.events if e.source.reporter_id == cmd.actor.id for m in e.source.media]
    payload: Payload = {
        "finding": FINDING,
        "evidence": [_evidence(m).model_dump(mode="json") for m in media],
        "basis": SelfReport.REPORTER_REPORT.value,
        "reporter": cmd.actor.id,
        **entered,
    }
    return [("verified", payload, SELF_REPORT)]


def _evidence(media: MediaRef) -> Evidence:
    kind = EvidenceKind.PHOTO if media.content_type.startswith("image/") else EvidenceKind.DOCUMENT
    return Evidence(sha256=media.sha256, kind=kind, caption="上报照片 (the report's photo)")
