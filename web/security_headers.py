"""Security headers on every HTTP answer, as data: a strict CSP on the pages, no framing, no referrer, no sniffing,
and no caching of API answers. A header the route set itself (a media file's sandbox, its ETag caching) is kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def page_policy(tile_origins: Sequence[str] = ()) -> str:
    """The pages' CSP; `tile_origins` are the configured base map's tile servers, and no other origin is admitted."""
    tiles = "".join(f" {origin}" for origin in tile_origins)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{tiles}",  # MapLibre's icons are data: SVGs; decoded tiles become blobs
            "worker-src 'self' blob:",  # MapLibre's worker, or its blob copy when the page's origin is opaque
            f"connect-src 'self'{tiles}",  # the API, /ws/live and the base map's tiles
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


PAGE_POLICY = page_policy()
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = "frame-ancestors 'none'"
"""/docs is FastAPI's Swagger page, an inline script and assets from a CDN: it may not be framed, nothing more."""

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
PAGE_HEADERS = {**COMMON, "content-security-policy": PAGE_POLICY}
API_HEADERS = {**COMMON, "content-security-policy": API_POLICY, "cache-control": "no-store"}
DOCS_HEADERS = {**COMMON, "content-security-policy": DOCS_POLICY}


def by_path(page_headers: Mapping[str, str] = PAGE_HEADERS) -> tuple[tuple[str, Mapping[str, str]], ...]:
    """The headers of a path: the first prefix that matches."""
    return (
        ("/api/", API_HEADERS),
        ("/healthz", API_HEADERS),
        ("/openapi.json", API_HEADERS),
        ("/docs", DOCS_HEADERS),
        ("/redoc", DOCS_HEADERS),
        ("/", page_headers),
    )


BY_PATH = by_path()


def _prefix(path: str) -> str:
    return next(prefix for prefix, _ in BY_PATH if path.startswith(prefix))


def headers_for(path: str, tile_origins: Sequence[str] = ()) -> Mapping[str, str]:
    """The security headers an answer on `path` carries, with the pages admitting `tile_origins`."""
    pages = {**PAGE_HEADERS, "content-security-policy": page_policy(tile_origins)}
    return dict(by_path(pages))[_prefix(path)]


class SecurityHeaders:
    """Adds the path's security headers to each response start, except those the route already set; the pages' CSP
    admits the configured base map's `tile_origins`."""

    def __init__(self, app: ASGIApp, tile_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.encoded = {
            prefix: tuple((name.encode(), value.encode()) for name, value in headers_for(prefix, tile_origins).items())
            for prefix, _ in BY_PATH
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.encoded[_prefix(scope["path"])]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
