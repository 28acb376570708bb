"""A notice in a person's inbox, as the API lists it and the live channel announces it (topic inbox.notices)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

NoticeKind = Literal[
    "dispatched", "returned", "supervised", "review_requested", "extension_requested", "extension_decided", "deadline"
]
NOTICE_KINDS: tuple[str, ...] = NoticeKind.__args__  # type: ignore[attr-defined]


class Notice(BaseModel):
    """One notice addressed to one person about one case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    person_id: str
    case_id: UUID
    kind: NoticeKind
    text_zh: str
    text_en: str
    created_at: AwareDatetime
    read_at: AwareDatetime | None = None
