"""Messages for the queues a person resolves (unrouted, dead letter) and registry notices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from core.inputs import NO_NUL
from core.plans import RedistrictingPlan


class UnroutedEvent(BaseModel):
    """An accepted event the processors could not place in any grid or route to anyone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    type: str
    category: str
    lon: float
    lat: float
    reason: str
    description: str
    received_at: AwareDatetime
    event: dict[str, object] = Field(description="the event as received, to resolve it by hand")


RAW_CAP = 64 * 1024
"""The most characters of a record a dead letter keeps."""
ESCAPED_NOTE = " [raw: not UTF-8 text without NUL; its bytes shown with \\xNN escapes, backslashes doubled]"


def printable(value: bytes) -> tuple[str, bool]:
    """The bytes as text, and whether they had to be escaped: UTF-8 without NUL stays as it is; anything else keeps
    every byte exactly, as \\xNN escapes with backslashes doubled, so it fits a PostgreSQL text column."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if "\x00" not in text:
            return text, False
    # A backslash or NUL byte is never part of a multi-byte UTF-8 sequence, so escaping them first is safe.
    return value.replace(b"\\", b"\\\\").replace(b"\x00", b"\\x00").decode("utf-8", "backslashreplace"), True


class DeadLetter(BaseModel):
    """A record no processor could read, with the reason and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_topic: str = Field(pattern=NO_NUL)
    partition: int
    offset: int
    key: str | None = Field(pattern=NO_NUL)
    reason: str = Field(pattern=NO_NUL)
    raw: str = Field(pattern=NO_NUL, description="the record's bytes cut to 64 KiB: as text, or escaped (see reason)")
    received_at: AwareDatetime

    @classmethod
    def of_record(
        cls, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, reason: str
    ) -> DeadLetter:
        """The dead letter of a consumed record; bytes that are not clean text are escaped, never dropped."""
        raw, escaped = printable(value) if value is not None else ("", False)
        why = printable(reason.encode())[0]
        return cls(
            source_topic=printable(topic.encode())[0],
            partition=partition,
            offset=offset,
            key=printable(key)[0] if key is not None else None,
            reason=why[: 1000 - len(ESCAPED_NOTE)] + ESCAPED_NOTE if escaped else why[:1000],
            raw=raw[:RAW_CAP],
            received_at=datetime.now(UTC),
        )


class QueueChange(BaseModel):
    """A notice that a person-facing queue gained an item, or that a person resolved one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: Literal["unrouted", "deadletter"]
    item_id: str
    at: AwareDatetime
    change: Literal["added", "resolved"] = "added"
    region: str | None = Field(
        default=None, pattern=r"^[0-9]{6,15}$", description="the township covering the item; none: administrators'"
    )


class RegistryChange(BaseModel):
    """A notice that grids, people or routing rules changed, so in-memory indexes must reload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    part: Literal["boundaries", "rules", "step_slas", "people", "plan"]
    revision: int
    at: AwareDatetime
    reason: str = ""
    plan_id: str | None = None
    plan: RedistrictingPlan | None = Field(default=None, description="the applied plan itself (part `plan`)")

    @model_validator(mode="after")
    def _plan_matches(self) -> RegistryChange:
        if self.plan is not None and (self.part != "plan" or self.plan_id != self.plan.plan_id):
            raise ValueError("a plan travels only on a `plan` notice with its own plan_id")
        return self

    @classmethod
    def now(
        cls, part: str, revision: int, reason: str, plan_id: str | None = None, plan: RedistrictingPlan | None = None
    ) -> RegistryChange:
        """A notice stamped now; a plan, when given, names its own id."""
        return cls.model_validate(
            {
                "part": part,
                "revision": revision,
                "at": datetime.now(UTC),
                "reason": reason,
                "plan_id": plan.plan_id if plan is not None else plan_id,
                "plan": plan,
            }
        )

    @property
    def key(self) -> bytes:
        """The record key on the compacted topic: one per part, and one per plan so compaction keeps every plan."""
        return (f"plan:{self.plan_id}" if self.part == "plan" and self.plan_id else self.part).encode()


class UnroutedResolution(BaseModel):
    """A person's decision on an unrouted event: route it again (after fixing grids, people or rules) or dismiss it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["retry", "dismiss"]
    note: str = Field(default="", max_length=500, pattern=NO_NUL, description="why; required to dismiss")

    @model_validator(mode="after")
    def _dismissal_says_why(self) -> UnroutedResolution:
        if self.action == "dismiss" and not self.note.strip():
            raise ValueError("note: say why the event is dismissed")
        return self


class DeadLetterResolution(BaseModel):
    """An administrator's decision on a dead letter: replay it to its topic (after a fix) or dismiss it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["replay", "dismiss"]
    note: str = Field(default="", max_length=500, pattern=NO_NUL, description="why; required to dismiss")

    @model_validator(mode="after")
    def _dismissal_says_why(self) -> DeadLetterResolution:
        if self.action == "dismiss" and not self.note.strip():
            raise ValueError("note: say why the record is dismissed")
        return self
