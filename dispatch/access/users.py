"""User accounts: argon2 password hashes, session epochs, and rotating refresh tokens."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.clock import LOCAL_TODAY, in_force, local_day
from dispatch.db import Conn
from dispatch.errors import Invalid, Unauthorized

HASHER = PasswordHasher()
MIN_PASSWORD = 8
PERSON_ROLES = frozenset(Role) - {Role.ADMIN, Role.SYSTEM}
SERVING_PERSON = (
    "SELECT p.id, p.role, m.unit_code, m.team_id FROM people p JOIN team_memberships m ON m.person_id = p.id"
    f" AND {in_force('m', '$2')} WHERE p.id = $1 AND {in_force('p', '$2')} ORDER BY m.valid_from DESC LIMIT 1"
)
"""The person serving on day $2, in the unit and team of their membership that day (a plan may have dated a move
later: `people` holds the latest)."""
LIVE = (
    "u.disabled_at IS NULL AND NOT EXISTS"
    f" (SELECT 1 FROM people p WHERE p.id = u.person_id AND p.valid_to <= {LOCAL_TODAY})"
)
"""SQL: the account `u` is live: enabled and, a person's, while its person serves today (a plan dated ahead ends
them at midnight, a moment before the processors disable the account)."""
# A phone whose answer was lost on a bad network may present a just-used token again.
REUSE_GRACE = timedelta(minutes=2)

_COLUMNS = (
    "username",
    "person_id",
    "role",
    "unit_code",
    "team_id",
    "demo",
    "session_epoch",
    "disabled_at",
    "created_at",
)
USER_COLUMNS = ", ".join(_COLUMNS)


class UserError(Invalid, ValueError):
    """A user could not be created or changed; the message names the field at fault."""


class LoginRefused(Unauthorized):
    """Sign-in failed: the same answer for an unknown name, a wrong password and a disabled account."""


class RefreshRefused(Unauthorized):
    """A refresh token is unknown, expired, revoked or was already used."""


@dataclass(frozen=True)
class User:
    """An account and what it is bound to."""

    username: str
    role: Role
    unit_code: str
    person_id: str | None
    team_id: str | None
    epoch: int = 0
    """The account's session epoch: a password change or disabling bumps it, ending every token issued before."""

    def scope(self) -> Scope:
        """The user's reach."""
        return Scope(self.username, self.role, self.unit_code, self.person_id, self.team_id)


def _user(row: asyncpg.Record) -> User:
    return User(
        row["username"], Role(row["role"]), row["unit_code"], row["person_id"], row["team_id"], row["session_epoch"]
    )


@dataclass(frozen=True)
class Grant:
    """A sign-in's new refresh token, when it was issued, and the sign-in (refresh family) it belongs to."""

    user: User
    refresh: str
    issued_at: datetime
    family: UUID


class RefreshKeys(Protocol):
    """Keyed derivations of refresh tokens (dispatch.access.tokens.TokenIssuer, with GRID_JWT_SECRET): rotating
    the key ends every sign-in."""

    def digest(self, token: str) -> str:
        """What is stored of a refresh token (never the token)."""
        ...

    def successor(self, token: str) -> str:
        """The refresh token that a refresh token is traded for."""
        ...


async def add_user(
    pool: asyncpg.Pool,
    username: str,
    password: str,
    role: Role,
    unit_code: str | None = None,
    person_id: str | None = None,
    demo: bool = False,
) -> dict[str, Any]:
    """Create an account; a person-bound role takes its unit and team from the person's membership today."""
    if len(password) < MIN_PASSWORD and not demo:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    team_id = None
    if role in PERSON_ROLES:
        if person_id is None:
            raise UserError(f"person: a {role} account belongs to a person of the registry")
        person = await pool.fetchrow(SERVING_PERSON, person_id, local_day(datetime.now(UTC)))
        if person is None:
            raise UserError(f"person: no serving person {person_id}")
        if person["role"] != role:
            raise UserError(f"role: person {person_id} is a {person['role']}, not a {role}")
        unit_code, team_id = person["unit_code"], person["team_id"]
    if not unit_code:
        raise UserError("unit: an admin or system account needs the unit it administers")
    try:
        row = await pool.fetchrow(
            f"INSERT INTO users (username, person_id, role, unit_code, team_id, password_hash, demo)"
            f" VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING {USER_COLUMNS}",
            username,
            person_id,
            role.value,
            unit_code,
            team_id,
            await _hash(password),
            demo,
        )
    except asyncpg.UniqueViolationError as exc:
        raise UserError(f"username: {username} exists, or person {person_id} already has an account") from exc
    except asyncpg.CheckViolationError as exc:
        raise UserError("username: 2-64 letters, digits, '.', '_' or '-'") from exc
    assert row is not None
    return dict(row)


async def list_users(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every account, by username."""
    return [dict(r) for r in await pool.fetch(f"SELECT {USER_COLUMNS} FROM users ORDER BY username")]


async def set_password(pool: asyncpg.Pool, username: str, password: str) -> None:
    """Change a password; every session of the account ends (its epoch moves on, its refresh tokens are revoked)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute(
            "UPDATE users SET password_hash = $2, password_changed_at = now(), demo = false,"
            " session_epoch = session_epoch + 1 WHERE username = $1",
            username,
            await _hash(password),
        )
        _found(status, username)
        await conn.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE username = $1", username)


async def set_status(pool: asyncpg.Pool, username: str, *, disabled: bool) -> None:
    """Disable an account (ending every session of it) or enable it again."""
    async with pool.acquire() as conn, conn.transaction():
        if not disabled:
            await _refuse_ended_person(conn, username)
        sql = (
            "UPDATE users SET disabled_at = CASE WHEN $2 THEN now() END,"
            " session_epoch = session_epoch + CASE WHEN $2 THEN 1 ELSE 0 END WHERE username = $1"
        )
        _found(await conn.execute(sql, username, disabled), username)
        if disabled:
            await conn.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE username = $1", username)


async def disable_person_accounts(conn: Conn, people: list[str]) -> list[str]:
    """Disable every account of these people, whose service ended, in the caller's transaction; their usernames."""
    names = [
        r["username"]
        for r in await conn.fetch(
            "UPDATE users SET disabled_at = now(), session_epoch = session_epoch + 1"
            " WHERE person_id = ANY($1::text[]) AND disabled_at IS NULL RETURNING username",
            people,
        )
    ]
    await conn.execute("UPDATE refresh_tokens SET revoked_at = now() WHERE username = ANY($1)", names)
    return names


async def _refuse_ended_person(conn: Conn, username: str) -> None:
    """An account cannot be enabled for a person no longer in service (the processors would disable it again)."""
    ended = await conn.fetchrow(
        "SELECT p.id, p.valid_to FROM users u JOIN people p ON p.id = u.person_id"
        f" WHERE u.username = $1 AND p.valid_to <= {LOCAL_TODAY}",
        username,
    )
    if ended is not None:
        raise UserError(f"username: {username} belongs to {ended['id']}, whose service ended on {ended['valid_to']}")


def _found(status: str, username: str) -> None:
    if status.endswith(" 0"):
        raise UserError(f"username: no account {username}")


async def authenticate(pool: asyncpg.Pool, username: str, password: str) -> User:
    """The user for a correct password; an unknown, disabled or ended name costs the same hash and gets the same
    answer."""
    row = await pool.fetchrow(
        f"SELECT {USER_COLUMNS}, password_hash FROM users u WHERE username = $1 AND {LIVE}", username
    )
    if row is None:
        await _verify(await _dummy_hash(), password)
        raise LoginRefused("wrong username or password")
    if not await _verify(row["password_hash"], password):
        raise LoginRefused("wrong username or password")
    if HASHER.check_needs_rehash(row["password_hash"]):
        await pool.execute("UPDATE users SET password_hash = $2 WHERE username = $1", username, await _hash(password))
    return _user(row)


_DUMMY: list[str] = []


async def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a missing account takes as long as a wrong password;
    made on first use, not when the module is imported."""
    if not _DUMMY:
        _DUMMY.append(await _hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]


# argon2 is deliberately slow (about 0.1 s of CPU); off the event loop, it stalls no other request.
async def hash_password(password: str) -> str:
    """The argon2 hash of a password, made off the event loop."""
    return await _hash(password)


async def _hash(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(HASHER.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def issue_refresh(pool: asyncpg.Pool, user: User, now: datetime, lifetime: timedelta, keys: RefreshKeys) -> Grant:
    """A new sign-in: a refresh token (returned once, stored as its keyed digest) in a new family."""
    token, family = secrets.token_urlsafe(32), uuid4()
    await _store_refresh(pool, keys.digest(token), user.username, family, now, lifetime)
    return Grant(user, token, now, family)


async def _store_refresh(
    conn: asyncpg.Pool | Conn, digest: str, username: str, family: UUID, now: datetime, lifetime: timedelta
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (token_hash, username, family, issued_at, expires_at) VALUES ($1,$2,$3,$4,$5)"
        " ON CONFLICT (token_hash) DO NOTHING",
        digest,
        username,
        family,
        now,
        now + lifetime,
    )


async def rotate_refresh(
    pool: asyncpg.Pool, token: str, now: datetime, lifetime: timedelta, keys: RefreshKeys
) -> Grant:
    """Trade a refresh token for its successor. Used again within the grace, it answers the same successor, issued
    at the same instant (so the same access token); after the grace, it revokes its family (stolen)."""
    refused: str | None = None
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"SELECT t.family, t.expires_at, t.used_at, t.revoked_at, {LIVE} AS live,"
            f" {', '.join('u.' + c for c in _COLUMNS)}"
            " FROM refresh_tokens t JOIN users u USING (username) WHERE t.token_hash = $1 FOR UPDATE OF t",
            keys.digest(token),
        )
        if row is None:
            refused = "unknown refresh token"
        elif row["used_at"] is not None and now - row["used_at"] > REUSE_GRACE:
            await conn.execute("UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1", row["family"], now)
            refused = "refresh token already used; every session of this sign-in is revoked"
        elif row["revoked_at"] is not None or not row["live"] or row["expires_at"] <= now:
            refused = "refresh token expired or revoked; sign in again"
        elif row["used_at"] is None:
            await conn.execute("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", keys.digest(token), now)
            successor = keys.digest(keys.successor(token))
            await _store_refresh(conn, successor, row["username"], row["family"], now, lifetime)
    if refused is not None or row is None:
        raise RefreshRefused(refused or "unknown refresh token")
    return Grant(_user(row), keys.successor(token), row["used_at"] or now, row["family"])


async def revoke_refresh(pool: asyncpg.Pool, username: str, token: str, now: datetime, keys: RefreshKeys) -> None:
    """Sign out: the family of the user's token can no longer be refreshed."""
    await pool.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family = (SELECT family FROM refresh_tokens"
        " WHERE token_hash = $1 AND username = $3) AND revoked_at IS NULL",
        keys.digest(token),
        now,
        username,
    )


async def demo_accounts_enabled(pool: asyncpg.Pool) -> list[str]:
    """Accounts still holding a demo password."""
    return [r["username"] for r in await pool.fetch("SELECT username FROM users WHERE demo AND disabled_at IS NULL")]


async def account_has_role(pool: asyncpg.Pool, username: str, role: Role) -> bool:
    """Whether an enabled account of that name holds that role."""
    found = await pool.fetchval(
        "SELECT true FROM users WHERE username = $1 AND role = $2 AND disabled_at IS NULL", username, role.value
    )
    return bool(found)
