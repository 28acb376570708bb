"""An agent's unexpected error ends the worker before faust can acknowledge the records it was working on."""

from __future__ import annotations

import pytest

from streams import context
from streams.context import EXIT_SOFTWARE, or_exit


class Exited(BaseException):
    """What the patched os._exit raises, so the test survives it."""


def test_an_unexpected_error_ends_the_process_instead_of_going_on(monkeypatch: pytest.MonkeyPatch) -> None:
    codes: list[int] = []

    def exit_(code: int) -> None:
        codes.append(code)
        raise Exited

    monkeypatch.setattr(context.os, "_exit", exit_)
    with pytest.raises(Exited), or_exit("the case writer"):
        raise KeyError("a case vanished")
    assert codes == [EXIT_SOFTWARE]


def test_work_that_succeeds_goes_on() -> None:
    with or_exit("the case writer"):
        done = True
    assert done
