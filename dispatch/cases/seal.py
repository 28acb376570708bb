"""The audit keys: HMAC-SHA256 seals over log entries and anchors, made with a key the database never holds.

A key is named by an id derived from it, so each sealed entry says which key made it: the current key seals, the
previous ones (after a rotation) still verify what they sealed."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dispatch.settings import AuditSettings

KEY_ID_LABEL = b"gridcmd audit key id\0"


def key_id(secret: str) -> str:
    """The public name of a key: a short digest of it, so naming a key reveals nothing of it."""
    return "k" + hashlib.sha256(KEY_ID_LABEL + secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Seal:
    """A MAC and the id of the key that made it."""

    key_id: str
    mac: str


@dataclass(frozen=True)
class AuditKeys:
    """The current key (which seals) and every key that may have sealed before (which verify)."""

    current: str
    keys: Mapping[str, bytes]

    @classmethod
    def of(cls, current: str, previous: Iterable[str] = ()) -> AuditKeys:
        """The key ring from the secrets themselves (GRID_AUDIT_KEY, GRID_AUDIT_KEYS_PREVIOUS)."""
        if not current:
            raise ValueError("the audit key is empty")
        secrets = [current, *(p for p in previous if p)]
        return cls(key_id(current), {key_id(s): s.encode() for s in secrets})

    def seal(self, message: str) -> Seal:
        """The current key's seal over a message (an entry's hash, an anchor's canonical text)."""
        return Seal(self.current, self._mac(self.keys[self.current], message))

    def verdict(self, seal: Seal, message: str) -> str | None:
        """Why the seal does not hold for the message (an unknown key, a wrong MAC); None when it holds."""
        key = self.keys.get(seal.key_id)
        if key is None:
            return f"sealed with unknown key {seal.key_id}"
        if not hmac.compare_digest(self._mac(key, message), seal.mac):
            return f"its seal (key {seal.key_id}) does not match"
        return None

    @staticmethod
    def _mac(key: bytes, message: str) -> str:
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def audit_keys(settings: AuditSettings) -> AuditKeys:
    """The key ring the settings name."""
    return AuditKeys.of(settings.audit_key.get_secret_value(), settings.previous_audit_keys)
