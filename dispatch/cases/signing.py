"""Proof that a trusted process issued a case command: an HMAC-SHA256 over the command's canonical form.

The web app signs a person's command after authenticating them; the stream workers sign the system's (router,
clock, merges, redistricting). The case writer applies only commands whose proof it can verify, so broker
credentials alone make no one a dispatcher. A proof is `<key id>:<hex digest>`; the key id names the key (a
fingerprint of it), so keys can be rotated while commands signed with the previous one are still on the topic.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import TypeVar

import orjson

from core.cases import CommandBase
from dispatch.settings import CommandKeySettings

C = TypeVar("C", bound=CommandBase)
MIN_KEY_CHARS = 32
UNSIGNED = "unsigned command"


class WeakCommandKey(ValueError):
    """A command key too short to be a secret (the message never contains the key)."""


def canonical(command: CommandBase) -> bytes:
    """The bytes a proof covers: the command as JSON without its proof, keys sorted, no whitespace."""
    return orjson.dumps(command.model_dump(mode="json", exclude={"proof"}), option=orjson.OPT_SORT_KEYS)


def key_id(key: str) -> str:
    """A key's name in proofs: a fingerprint that does not reveal the key."""
    return hashlib.sha256(b"gridcmd command key:" + key.encode()).hexdigest()[:12]


def _digest(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


class CommandSigner:
    """Signs with the current key; verifies with it and the previous keys still accepted during a rotation."""

    def __init__(self, current: str, previous: Iterable[str] = ()) -> None:
        keys = [current, *previous]
        if any(len(key) < MIN_KEY_CHARS for key in keys):
            raise WeakCommandKey(f"every command key must have at least {MIN_KEY_CHARS} characters")
        self._current = (key_id(current), current.encode())
        self._accepted = {key_id(key): key.encode() for key in keys}

    @classmethod
    def of(cls, settings: CommandKeySettings) -> CommandSigner:
        """The signer of a process holding GRID_COMMAND_KEY (and GRID_COMMAND_KEYS_PREVIOUS)."""
        return cls(settings.command_key.get_secret_value(), settings.previous_command_keys)

    def proof(self, body: bytes) -> str:
        """The proof of a command whose canonical form is `body`, with the current key."""
        kid, key = self._current
        return f"{kid}:{_digest(key, body)}"

    def sign(self, command: C) -> C:
        """The command with its proof."""
        return command.model_copy(update={"proof": self.proof(canonical(command))})

    def record(self, command: CommandBase) -> bytes:
        """The command signed, as a record for the commands topic (serialised once: the canonical form and proof)."""
        body = canonical(command)
        return body[:-1] + b',"proof":"' + self.proof(body).encode() + b'"}'

    def refusal(self, command: CommandBase) -> str | None:
        """Why the command must not be applied (no proof, an unknown key, a proof that does not match), or None."""
        if command.proof is None:
            return UNSIGNED
        kid, _, digest = command.proof.partition(":")
        key = self._accepted.get(kid)
        if key is None:
            return f"command signed with an unknown key ({kid[:16]!r})"
        if not hmac.compare_digest(digest.encode(), _digest(key, canonical(command)).encode()):
            return "forged command: its proof does not match its content"
        return None
