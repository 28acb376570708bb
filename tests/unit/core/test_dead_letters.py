"""A dead letter keeps a poison record's bytes exactly, as text PostgreSQL can store."""

from __future__ import annotations

import codecs

import pytest
from pydantic import ValidationError

from core.queues import ESCAPED_NOTE, RAW_CAP, DeadLetter, printable


def unescaped(text: str) -> bytes:
    """The bytes behind escaped text (\\xNN and doubled backslashes), the way an operator would restore them."""
    return bytes(codecs.escape_decode(text.encode())[0])


def test_clean_text_is_kept_as_it_is() -> None:
    assert printable('{"描述": "村口\\\\垃圾"}'.encode()) == ('{"描述": "村口\\\\垃圾"}', False)


@pytest.mark.parametrize(
    "value", [b'{"a": "\x00"}', b"\xff\xfe{", b"\\x00 is not \x00", "半个字".encode()[:4], b"\xc3\x28\\"]
)
def test_poison_bytes_are_escaped_without_nul_and_restorable(value: bytes) -> None:
    text, escaped = printable(value)
    assert escaped and "\x00" not in text
    assert unescaped(text) == value


def test_a_poison_record_becomes_a_dead_letter_saying_its_bytes_are_escaped() -> None:
    letter = DeadLetter.of_record("grid.events", 2, 41, b"k\x00", b"\xff" + b"x" * RAW_CAP, "not JSON\x00")
    assert (letter.source_topic, letter.partition, letter.offset) == ("grid.events", 2, 41)
    assert letter.key == "k\\x00" and letter.raw.startswith("\\xffxxx") and len(letter.raw) == RAW_CAP
    assert letter.reason == "not JSON\\x00" + ESCAPED_NOTE


def test_a_readable_record_keeps_its_text_and_reason() -> None:
    letter = DeadLetter.of_record("case.commands", 0, 7, None, b'{"kind": "accept"}', "malformed case command")
    assert (letter.key, letter.raw, letter.reason) == (None, '{"kind": "accept"}', "malformed case command")


def test_a_dead_letter_with_a_nul_is_refused() -> None:
    letter = DeadLetter.of_record("grid.events", 0, 1, None, b"x", "why").model_dump()
    with pytest.raises(ValidationError):
        DeadLetter.model_validate({**letter, "raw": "a\x00b"})
