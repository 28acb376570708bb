"""What the domain refuses, by kind: one base, one class per answer; the web app's table gives each its status."""

from __future__ import annotations

Loc = tuple[str | int, ...]
"""Where in the request a field at fault is, as FastAPI writes it: ("body", "grids", 1), ("query", "from")."""


class DomainError(Exception):
    """A request the domain refuses; the message is fit to show the client."""


class Invalid(DomainError):
    """The input does not fit; `fields` names each field at fault (its `loc`) with what is wrong there."""

    kind = "value_error"

    def __init__(self, msg: str, loc: Loc = ("body",)) -> None:
        super().__init__(msg)
        self.fields: list[tuple[Loc, str]] = [(loc, msg)]

    @property
    def loc(self) -> Loc:
        """The (first) field at fault."""
        return self.fields[0][0] if self.fields else ("body",)


class Unauthorized(DomainError):
    """No credentials, or wrong, expired or spent ones."""


class Forbidden(DomainError):
    """The caller may not do this, or not here."""


class NotFound(DomainError):
    """No such thing within the caller's reach."""


class Conflict(DomainError):
    """Not allowed in the current state of things; the message says why."""


class TooLarge(DomainError):
    """More bytes than allowed."""


class Unsupported(DomainError):
    """A kind of content that is not accepted."""


class RetryLater(DomainError):
    """Refused for now; `retry_after` is the whole seconds to wait."""

    def __init__(self, msg: str, retry_after: int) -> None:
        super().__init__(msg)
        self.retry_after = retry_after


class Locked(RetryLater):
    """Locked for a while (an account after repeated failures)."""


class TooMany(RetryLater):
    """Too many requests in a window."""


class Unavailable(RetryLater):
    """A backing service (the database, the broker) cannot be reached now."""

    def __init__(self, msg: str, retry_after: int = 5) -> None:
        super().__init__(msg, retry_after)


class NotInReach(NotFound, Invalid):
    """A reference in a request (a case, person, team or file) that does not exist or lies outside the caller's
    area: the same answer either way, 404 naming the field in FastAPI's shape."""

    kind = "not_found"

    def __init__(self, loc: Loc, what: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc[1:] or loc))}: no {what} within your reach", loc)
