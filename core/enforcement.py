"""Enforcement (综合执法) rules as data: what each stage needs, and which decisions need a legal review."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.inputs import NO_NUL
from core.vocabulary import EnforcementStage, EvidenceKind

Measure = Literal["warning", "fine", "confiscation", "order_to_correct", "closure", "demolition", "license_revocation"]


class Evidence(BaseModel):
    """A stored photo or document, by its SHA-256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    kind: EvidenceKind
    caption: str = Field(default="", max_length=200, pattern=NO_NUL)


class Decision(BaseModel):
    """An administrative decision (行政处罚/处理决定) as it is reviewed, decided and disclosed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party_kind: Literal["person", "organisation"]
    party_name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    party_id_number: str | None = Field(
        default=None, max_length=30, pattern=NO_NUL, description="ID card or credit code"
    )
    violation: str = Field(min_length=1, max_length=500, pattern=NO_NUL)
    legal_basis: str = Field(min_length=1, max_length=500, pattern=NO_NUL)
    measures: tuple[Measure, ...] = Field(min_length=1)
    fine_yuan: int = Field(default=0, ge=0, le=100_000_000)


class StageRule(BaseModel):
    """What a stage must carry before it counts as done."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_officers: int
    min_photos: int = 0
    min_documents: int = 0
    needs_decision: bool = False


class MajorDecisionRule(BaseModel):
    """Decisions that need 法制审核 before they are taken: large fines and drastic measures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fine_over_yuan: int = 10_000
    measures: frozenset[str] = frozenset({"closure", "demolition", "license_revocation"})

    def is_major(self, decision: Decision) -> bool:
        """Whether this decision needs an approved legal review first."""
        return decision.fine_yuan > self.fine_over_yuan or bool(self.measures.intersection(decision.measures))


STAGE_ORDER: tuple[EnforcementStage, ...] = tuple(EnforcementStage)

STAGE_RULES: dict[EnforcementStage, StageRule] = {
    EnforcementStage.FILE: StageRule(min_officers=2, min_documents=1),
    EnforcementStage.INVESTIGATE: StageRule(min_officers=2, min_photos=1, min_documents=1),
    EnforcementStage.DECIDE: StageRule(min_officers=2, min_documents=1, needs_decision=True),
    EnforcementStage.SERVE: StageRule(min_officers=2, min_documents=1),
    EnforcementStage.ARCHIVE: StageRule(min_officers=1, min_documents=1),
}

MAJOR_DECISIONS = MajorDecisionRule()
