"""The account check: why a token's account no longer honours it, and one statement per account per interval."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.access.sessions import ACCOUNT_STATE, AccountCheck, AccountState, refusal
from dispatch.access.tokens import AccessClaims, BadToken, TokenIssuer
from dispatch.access.users import User

SID = "5b0e7c3e-0000-4000-8000-000000000001"
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def claims(epoch: int = 3, sid: str | None = SID) -> AccessClaims:
    return AccessClaims(Scope("dispatcher", Role.DISPATCHER, "510822100", "disp-510822100"), LATER, epoch, sid)


def test_a_token_is_honoured_only_by_an_enabled_account_at_its_epoch_and_not_signed_out() -> None:
    serving = AccountState(3, True, frozenset())
    assert refusal(serving, claims()) is None
    assert refusal(None, claims()) == "no such account"
    assert refusal(AccountState(3, False, frozenset()), claims()) == "the account is disabled"
    assert refusal(AccountState(4, True, frozenset()), claims()).startswith("the session ended")  # type: ignore[union-attr]
    assert refusal(AccountState(3, True, frozenset({SID})), claims()) == "signed out; sign in again"
    assert refusal(AccountState(3, True, frozenset({SID})), claims(sid=None)) is None


class CountingPool:
    """Answers the account statement from a dict, counting the calls (no I/O)."""

    def __init__(self) -> None:
        self.calls = 0
        self.row: dict[str, Any] | None = {"session_epoch": 3, "enabled": True, "revoked": []}

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        assert sql == ACCOUNT_STATE
        self.calls += 1
        await asyncio.sleep(0)
        return self.row


async def test_one_statement_per_account_per_interval_shared_by_concurrent_requests() -> None:
    now = [100.0]
    check = AccountCheck(2.0, timedelta(minutes=15), clock=lambda: now[0])
    pool = CountingPool()
    await asyncio.gather(*(check.admit(pool, claims()) for _ in range(10)))  # type: ignore[arg-type]
    assert pool.calls == 1
    pool.row = {"session_epoch": 4, "enabled": True, "revoked": []}
    now[0] += 1.9
    await check.admit(pool, claims())  # type: ignore[arg-type]
    now[0] += 0.2
    with pytest.raises(BadToken, match="access token refused: the session ended"):
        await check.admit(pool, claims())  # type: ignore[arg-type]
    assert pool.calls == 2
    check.forget("dispatcher")
    pool.row = None
    with pytest.raises(BadToken, match="no such account"):
        await check.admit(pool, claims())  # type: ignore[arg-type]


def test_tokens_carry_the_epoch_and_sign_in_and_a_derived_id_is_stable() -> None:
    issuer = TokenIssuer("k" * 8 + "0123456789abcdefghijklmnopqrstuv", timedelta(minutes=15))
    user = User("dispatcher", Role.DISPATCHER, "510822100", "disp-510822100", None, epoch=7)
    now = datetime.now(UTC)
    token = issuer.issue(user, now, UUID(SID), issuer.derive("jti", "r"))
    read = issuer.read(token)
    assert (read.epoch, read.sid, read.scope.username) == (7, SID, "dispatcher")
    assert token == issuer.issue(user, now, UUID(SID), issuer.derive("jti", "r")), "the same grant, the same token"
    assert issuer.derive("refresh", "a") != issuer.derive("refresh", "b") != issuer.derive("jti", "b")
