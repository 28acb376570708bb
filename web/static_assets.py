"""The built front end over HTTP: files of web/static/dist, their brotli or gzip copy made at build time chosen by
the request's Accept-Encoding, immutable caching for hashed names, revalidation for the rest, ETags and 304."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, Response

ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
"""The precompressed copies a file may have next to it, in the order the server prefers them."""
COMPRESSED_SUFFIXES = tuple(suffix for _, suffix in ENCODINGS)
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
HASHED_NAME = re.compile(r"-[A-Za-z0-9_-]{8}\.[a-z0-9]+$")
"""Vite's `[name]-[hash].[ext]`: such a file never changes, a new build gives it another name."""
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


def accepted(header: str | None) -> dict[str, float]:
    """The codings an Accept-Encoding header names, with their q-values (RFC 9110 §12.5.3)."""
    weights: dict[str, float] = {}
    for item in (header or "").split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[name.lower()] = weight
    return weights


def choose_encoding(header: str | None, available: set[str]) -> str | None:
    """The best precompressed coding the client takes among those available; None for the file as it is."""
    weights = accepted(header)
    best: tuple[float, str] | None = None
    for coding, _ in ENCODINGS:
        weight = weights.get(coding, weights.get("*", 0.0))
        if coding in available and weight > 0 and (best is None or weight > best[0]):
            best = (weight, coding)
    return best[1] if best else None


def safe_path(root: Path, relative: str) -> Path | None:
    """The file `relative` names inside `root`, or None if it names no file there (or anything outside it)."""
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = PurePosixPath(relative).parts
    if any(part in ("..", ".") or part.startswith(".") for part in parts) or relative.endswith(COMPRESSED_SUFFIXES):
        return None
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def cache_control(relative: str) -> str:
    """Hashed assets are kept for a year; pages, the service worker and anything unhashed are revalidated."""
    return IMMUTABLE if relative.startswith("assets/") and HASHED_NAME.search(relative) else REVALIDATE


def content_type(path: Path) -> str:
    """The media type of a served file, by its name."""
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def file_response(request: Request, root: Path, relative: str) -> Response:
    """A file of the build: the best copy for the client, with its caching headers; 304 when the client has it."""
    path = safe_path(root, relative)
    if path is None:
        return Response(status_code=404, content=b"no such file", media_type="text/plain")
    available = {coding for coding, suffix in ENCODINGS if path.with_name(path.name + suffix).is_file()}
    coding = choose_encoding(request.headers.get("accept-encoding"), available)
    served = path.with_name(path.name + dict(ENCODINGS)[coding]) if coding else path
    stat = served.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}-{coding or "identity"}"'
    headers = {"cache-control": cache_control(relative), "etag": etag}
    if available:
        headers["vary"] = "Accept-Encoding"
    if _client_has(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if coding:
        headers["content-encoding"] = coding
    return FileResponse(served, headers=headers, media_type=content_type(path), stat_result=stat)


def _client_has(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (or any)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
