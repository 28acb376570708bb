"""Signed case commands: the canonical form is stable, any change to a signed command breaks its proof, keys rotate."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import SecretStr, ValidationError

from core.cases import BODY_ADAPTER, COMMAND_ADAPTER, Actor, Assignee, CaseCommand, OpenCase
from core.events import EVENT_ADAPTER
from core.vocabulary import PartyKind, Role
from dispatch.cases.issue import command_from_body
from dispatch.cases.signing import UNSIGNED, CommandSigner, WeakCommandKey, canonical, key_id
from dispatch.routing.decision import decide
from dispatch.settings import CommandKeySettings
from tests.unit.factories import TOWN, event_body, snapshot

OLD_KEY = "o" * 16 + "ld-command-key-of-last-year-0123"
KEY = "current-command-key-0123456789abcdef"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
EVENT_ID = uuid.UUID("1f4b7c2e-0d1a-4c5e-9a3b-6e8f2d4c1a70")
DISPATCHER = Actor(id="disp-1", role=Role.DISPATCHER, unit_code=TOWN)
FORGED = "forged command: its proof does not match its content"


def opened() -> OpenCase:
    """The router's command for a demo event: every kind of field (nested models, codes, times, floats)."""
    times = {"occurred_at": "2026-03-02T08:55:00+08:00", "reported_at": T0.isoformat()}
    body = event_body(event_id=str(EVENT_ID), **times)
    command = decide(EVENT_ADAPTER.validate_python(body), snapshot(), T0)
    assert isinstance(command, OpenCase)
    return command


def assign() -> CaseCommand:
    """A dispatcher's command."""
    body = BODY_ADAPTER.validate_python(
        {"kind": "assign", "assignee": {"kind": "grid_member", "id": "gm-2"}, "reason": "改派"}
    )
    party = Assignee(kind=PartyKind.GRID_MEMBER, id="gm-2", name="李四")
    return command_from_body(body, uuid.uuid4(), DISPATCHER, T0, uuid.uuid4(), party)


def leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar in a JSON document, with its path."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaves(value, (*path, key))
    elif isinstance(doc, list):
        for n, value in enumerate(doc):
            yield from leaves(value, (*path, n))
    else:
        yield path, doc


def altered(value: Any) -> list[Any]:
    """Changed values of a scalar to try, the smallest change first (one digit, one character)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int | float):
        return [value + 1]
    if isinstance(value, str):
        digit = re.search(r"[0-9](?=[^0-9]*$)", value)
        one_digit = [value[: digit.start()] + str((int(digit[0]) + 1) % 10) + value[digit.end() :]] if digit else []
        return [*one_digit, value + "x"]
    return []


def with_leaf(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of the document with one scalar replaced."""
    copy = orjson.loads(orjson.dumps(doc))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def tampered(signed: CaseCommand) -> Iterator[tuple[tuple[Any, ...], CaseCommand]]:
    """The signed command with each field changed in turn (where the change is still a valid command)."""
    doc = orjson.loads(orjson.dumps(signed.model_dump(mode="json")))
    for path, value in leaves(doc):
        if path == ("proof",):
            continue
        for candidate in altered(value):
            try:
                yield path, COMMAND_ADAPTER.validate_python(with_leaf(doc, path, candidate))
                break
            except ValidationError:
                continue


def test_the_canonical_form_is_sorted_compact_json_of_every_field_but_the_proof() -> None:
    command = opened()
    body = canonical(command)
    assert body == canonical(opened()) == canonical(COMMAND_ADAPTER.validate_json(command.model_dump_json()))
    assert body == orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    assert "proof" not in orjson.loads(body)
    signed = CommandSigner(KEY).sign(command)
    assert signed.proof is not None and canonical(signed) == body


def test_a_signed_record_parses_and_verifies_and_says_the_same_as_sign() -> None:
    signer = CommandSigner(KEY)
    for command in (opened(), assign()):
        record = COMMAND_ADAPTER.validate_json(signer.record(command))
        assert record == signer.sign(command)
        assert record.proof is not None and record.proof.startswith(key_id(KEY) + ":")
        assert signer.refusal(record) is None


def test_changing_any_field_of_a_signed_command_breaks_its_proof() -> None:
    signer = CommandSigner(KEY)
    for command in (opened(), assign()):
        signed = signer.sign(command)
        changed = dict(tampered(signed))
        assert ("actor", "id") in changed and ("actor", "role") in changed and ("case_id",) in changed
        assert ("issued_at",) in changed and ("command_id",) in changed
        for path, forgery in changed.items():
            assert signer.refusal(forgery) == FORGED, path
    router_paths = dict(tampered(signer.sign(opened())))
    assert len(router_paths) >= 20
    assert {("assignee", "id"), ("source", "description"), ("source", "location", "lon")} <= router_paths.keys()


@pytest.mark.parametrize(
    ("changes", "dropped"),
    [
        ({"priority": "urgent"}, ()),
        ({"source": {"category": "safety"}}, ()),
        ({"assignee": {"kind": "team", "fallback": "值班岗"}}, ()),
        ({"actor": {"unit_code": TOWN, "team_id": "enf-1"}}, ()),
        (
            {"kind": "transfer", "reason": "改派", "plan_id": None},
            ("source", "rule_id", "due_at", "sla", "priority", "self_report"),
        ),
    ],
)
def test_changing_a_choice_or_adding_an_optional_field_breaks_the_proof_too(
    changes: dict[str, Any], dropped: tuple[str, ...]
) -> None:
    signer = CommandSigner(KEY)
    doc = orjson.loads(signer.record(opened()))
    for name in dropped:
        doc.pop(name)
    for name, change in changes.items():
        doc[name] = {**doc[name], **change} if isinstance(change, dict) else change
    assert signer.refusal(COMMAND_ADAPTER.validate_python(doc)) == FORGED


def test_a_proof_moved_to_another_command_is_a_forgery() -> None:
    signer = CommandSigner(KEY)
    first, second = signer.sign(assign()), assign()
    assert signer.refusal(second.model_copy(update={"proof": first.proof})) == FORGED


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        (None, UNSIGNED),
        ("", "command signed with an unknown key ('')"),
        ("no-key-id", "command signed with an unknown key ('no-key-id')"),
        (f"{key_id(KEY)}:{'0' * 64}", FORGED),
        (f"{key_id(KEY)}:", FORGED),
        (f"{key_id(KEY)}:签名", FORGED),
    ],
)
def test_a_missing_malformed_or_wrong_proof_is_refused_with_its_reason(proof: str | None, reason: str) -> None:
    command = assign().model_copy(update={"proof": proof})
    assert CommandSigner(KEY).refusal(command) == reason


def test_a_command_signed_with_another_key_is_refused_as_unknown() -> None:
    foreign = CommandSigner("an-attackers-own-key-0123456789abcdef").sign(assign())
    assert foreign.proof is not None
    kid = foreign.proof.partition(":")[0]
    assert CommandSigner(KEY).refusal(foreign) == f"command signed with an unknown key ({kid!r})"


def test_rotation_signs_with_the_new_key_and_still_accepts_the_previous_one() -> None:
    before = CommandSigner(OLD_KEY)
    during = CommandSigner(KEY, [OLD_KEY])
    after = CommandSigner(KEY)
    old, new = before.sign(assign()), during.sign(assign())
    assert new.proof is not None and new.proof.startswith(key_id(KEY) + ":")
    assert during.refusal(old) is None and during.refusal(new) is None
    assert after.refusal(new) is None
    assert after.refusal(old) == f"command signed with an unknown key ({key_id(OLD_KEY)!r})"
    assert before.refusal(new) == f"command signed with an unknown key ({key_id(KEY)!r})"


def test_the_previous_keys_are_a_comma_separated_list() -> None:
    settings = CommandKeySettings(command_key=SecretStr(KEY), command_keys_previous=SecretStr(f" {OLD_KEY} ,, x{KEY},"))
    assert settings.previous_command_keys == [OLD_KEY, f"x{KEY}"]
    assert CommandSigner.of(settings).refusal(CommandSigner(f"x{KEY}").sign(assign())) is None


def test_a_short_key_is_refused_without_showing_it() -> None:
    for current, previous in (("short-secret", []), (KEY, ["short-secret"])):
        with pytest.raises(WeakCommandKey) as refused:
            CommandSigner(current, previous)
        assert "short-secret" not in str(refused.value) and "32" in str(refused.value)
