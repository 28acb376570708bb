"""Values clients send that PostgreSQL must be able to store: text without NUL, instants it can convert to UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

NO_NUL = r"^[^\x00]*$"
"""A pattern for free text: PostgreSQL's text and jsonb cannot hold U+0000 (pydantic refuses lone surrogates)."""


def _convertible(moment: datetime) -> datetime:
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 in UTC") from None
    return moment


Instant = Annotated[AwareDatetime, AfterValidator(_convertible)]
"""A moment with a time zone offset that stays within the representable years once converted to UTC."""
