"""Short-lived access tokens (JWT, HS256) that carry a user's role and unit, and the account's session epoch and
sign-in (refresh family) they belong to, so each request can be checked against the live account cheaply."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import jwt

from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.access.users import User
from dispatch.errors import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = "gridcmd"


class BadToken(Unauthorized):
    """The token is missing, malformed, forged, expired or its session ended; the message says which."""


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says: the scope, when it expires, the account's epoch and the sign-in."""

    scope: Scope
    expires: datetime
    epoch: int
    sid: str | None


class TokenIssuer:
    """Signs and reads access tokens with one secret."""

    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def derive(self, purpose: str, source: str) -> str:
        """A value only this secret makes from `source` (the successor of a refresh token, a token id)."""
        return hmac.new(self._secret.encode(), f"{purpose}\x1f{source}".encode(), hashlib.sha256).hexdigest()

    def digest(self, token: str) -> str:
        """What the database keeps of a refresh token: keyed, so a new secret ends every sign-in."""
        return self.derive("refresh-digest", token)

    def successor(self, token: str) -> str:
        """The refresh token a refresh token is traded for, the same however often it is presented."""
        return self.derive("refresh", token)

    def issue(self, user: User, now: datetime, sid: UUID | None = None, jti: str | None = None) -> str:
        """An access token for `user`, valid for the configured lifetime, in sign-in `sid`."""
        claims = {
            "sub": user.username,
            "role": user.role.value,
            "unit": user.unit_code,
            "pid": user.person_id,
            "team": user.team_id,
            "ep": user.epoch,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": jti or str(uuid4()),
        }
        if sid is not None:
            claims["sid"] = str(sid)
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> AccessClaims:
        """The claims of a validly signed, unexpired token (the account behind it is checked by AccountCheck)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "role", "unit", "exp", "aud", "ep"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise BadToken("access token expired; refresh it") from exc
        except jwt.InvalidTokenError as exc:
            raise BadToken(f"invalid access token: {exc}") from exc
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise BadToken("invalid access token: unknown role") from exc
        if not isinstance(claims["ep"], int):
            raise BadToken("invalid access token: bad session epoch")
        scope = Scope(claims["sub"], role, str(claims["unit"]), claims.get("pid"), claims.get("team"))
        expires = datetime.fromtimestamp(claims["exp"]).astimezone()
        return AccessClaims(scope, expires, claims["ep"], claims.get("sid"))
