"""API keys of system accounts (Open311 clients): a key is shown once, stored as its SHA-256 digest, and honoured
only while its account is enabled and the key not revoked."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import asyncpg

from core.vocabulary import Role
from dispatch.access import users as users_store
from dispatch.access.scope import Scope
from dispatch.access.users import UserError

KEY_BYTES = 32
PREFIX = "o311_"


def digest(key: str) -> str:
    """What is stored of a key (a random 256-bit key needs no slow hash)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh key, recognisable by its prefix in logs and secret scanners."""
    return PREFIX + secrets.token_urlsafe(KEY_BYTES)


async def add_client(pool: asyncpg.Pool, username: str, unit_code: str, label: str) -> str:
    """Create a system account for an Open311 client and its first key; returns the key (shown once)."""
    await users_store.add_user(pool, username, secrets.token_urlsafe(24), Role.SYSTEM, unit_code)
    return await issue(pool, username, label)


async def issue(pool: asyncpg.Pool, username: str, label: str) -> str:
    """A new key for an existing system account (a rotation keeps the old key until it is revoked)."""
    role = await pool.fetchval("SELECT role FROM users WHERE username = $1", username)
    if role != Role.SYSTEM.value:
        raise UserError(f"username: {username} is no system account")
    key = new_key()
    await pool.execute(
        "INSERT INTO api_keys (digest, username, label) VALUES ($1, $2, $3)", digest(key), username, label
    )
    return key


async def revoke(pool: asyncpg.Pool, username: str) -> int:
    """Revoke every live key of an account; how many were revoked."""
    status = await pool.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE username = $1 AND revoked_at IS NULL", username
    )
    return int(status.split()[-1])


async def list_keys(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every key's account, label, unit and status (never the key)."""
    rows = await pool.fetch(
        "SELECT k.username, k.label, u.unit_code, k.created_at, k.revoked_at, u.disabled_at FROM api_keys k"
        " JOIN users u USING (username) ORDER BY k.username, k.created_at"
    )
    return [dict(r) for r in rows]


async def holder(pool: asyncpg.Pool, key: str) -> Scope | None:
    """The scope of a live key's enabled system account; None for an unknown, revoked or disabled one."""
    row = await pool.fetchrow(
        "SELECT u.username, u.unit_code FROM api_keys k JOIN users u USING (username)"
        " WHERE k.digest = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL AND u.role = $2",
        digest(key),
        Role.SYSTEM.value,
    )
    return None if row is None else Scope(row["username"], Role.SYSTEM, row["unit_code"])
