"""Why a secret or a database password is too weak for production, whatever its spelling.

A secret (a signing or HMAC key, a broker password) must be long and varied: at least MIN_SECRET_LENGTH
characters and MIN_DISTINCT_CHARACTERS different ones, and none of the well-known weak words. A database URL is
read as libpq reads it: its password may sit in the authority or in `?password=`, percent-encoded, in any case;
an empty one, the user's own name, or a well-known default is refused.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10
WELL_KNOWN = frozenset(
    {
        "grid",
        "gridcmd",
        "postgres",
        "postgresql",
        "password",
        "passw0rd",
        "admin",
        "root",
        "secret",
        "changeme",
        "change-me",
        "123456",
        "12345678",
        "123456789",
        "qwerty",
        "letmein",
        "test",
        "demo",
        "grid-demo",
        "kafka",
    }
)
"""Passwords every scanner tries first (compared case-insensitively)."""


def weak_secret(name: str, value: str) -> str | None:
    """Why the secret `name` must not be used in production; None when it may."""
    if value.strip().lower() in WELL_KNOWN or "change-me" in value.lower():
        return f"{name} is a well-known default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"{name} is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"{name} has fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    return None


def database_password(url: str) -> tuple[str, str | None]:
    """The user and the password a PostgreSQL URL connects with (the query's `password` overrides the authority's),
    decoded; the password is None when the URL gives none."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    user = unquote(parts.username or "") or query.get("user", [""])[-1]
    password = unquote(parts.password) if parts.password is not None else None
    if "password" in query:
        password = query["password"][-1]
    return user, password


def weak_database_url(name: str, url: str) -> str | None:
    """Why the database URL in `name` must not be used in production (its password); None when it may."""
    user, password = database_password(url)
    if not password:
        return f"{name} has no database password"
    lowered = password.strip().lower()
    if lowered in WELL_KNOWN:
        return f"{name} uses a well-known default database password"
    if user and lowered == user.lower():
        return f"{name} uses the user name as the database password"
    if len(password) < 12 or len(set(password)) < 6:
        return f"{name} uses a short database password (at least 12 characters, 6 different)"
    return None
