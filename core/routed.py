"""An event located and routed, on its way to its township's duplicate check (keyed by township code)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from core.cases import OpenCase


class RoutedEvent(BaseModel):
    """The case routing would open for an event, and the event as reported (kept for an attach)."""

    model_config = ConfigDict(frozen=True)

    command: OpenCase
    event: dict[str, Any]

    @property
    def township(self) -> str:
        """The township whose partition decides whether the event duplicates an open case."""
        return self.command.township_code
