"""Short-lived access tokens (JWT, HS256) that carry a user's role and unit, so requests need no lookup."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import jwt

from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.access.users import User
from dispatch.errors import Unauthorized

ALGORITHM = "HS256"
AUDIENCE = "gridcmd"


class BadToken(Unauthorized):
    """The token is missing, malformed, forged or expired; the message says which."""


class TokenIssuer:
    """Signs and reads access tokens with one secret."""

    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def issue(self, user: User, now: datetime) -> str:
        """An access token for `user`, valid for the configured lifetime."""
        claims = {
            "sub": user.username,
            "role": user.role.value,
            "unit": user.unit_code,
            "pid": user.person_id,
            "team": user.team_id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": str(uuid4()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> tuple[Scope, datetime]:
        """The scope a valid token grants and when it expires."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "role", "unit", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise BadToken("access token expired; refresh it") from exc
        except jwt.InvalidTokenError as exc:
            raise BadToken(f"invalid access token: {exc}") from exc
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise BadToken("invalid access token: unknown role") from exc
        scope = Scope(claims["sub"], role, str(claims["unit"]), claims.get("pid"), claims.get("team"))
        return scope, datetime.fromtimestamp(claims["exp"]).astimezone()
