"""Evidence media over HTTP: upload raw bytes (judged by content, not name or header) and fetch them by hash."""

from __future__ import annotations

import logging
import mimetypes
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import FileResponse

from dispatch.access import access_log
from dispatch.access.http_auth import Caller, address
from dispatch.errors import NotFound
from dispatch.media import grants as media_grants
from dispatch.media import quota as media_quota
from dispatch.media import store as media_store
from dispatch.media.sniff import MediaTooLarge
from web.settings import WebSettings

log = logging.getLogger(__name__)
UPLOAD_PATH = "/api/v1/media"
router = APIRouter(prefix="/api/v1", tags=["media"])
Sha256 = Annotated[str, Path(pattern=media_store.SHA256_PATTERN, description="lower-case hex SHA-256 of the bytes")]


def _too_large(limit: int) -> MediaTooLarge:
    return MediaTooLarge(f"media larger than {limit} bytes")


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes the limit (never buffered beyond it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


@router.post(
    "/media",
    status_code=201,
    responses={
        413: {"description": "larger than the media limit"},
        415: {"description": "not an allowed type, or not the declared type"},
        429: {"description": "the account's media bytes for today are used up (media_bytes_per_day)"},
    },
)
async def upload_media(
    request: Request,
    caller: Caller,
    content_type: Annotated[str | None, Header(description="declared type; the bytes decide")] = None,
) -> dict[str, Any]:
    """Store a photo (JPEG, PNG, WebP) or document (PDF) sent as the raw body; the same bytes again are one file.

    Every byte received counts against the account's media bytes for the day."""
    settings: WebSettings = request.app.state.settings
    data = await _read_body(request, settings.media_max_bytes)
    await media_quota.charge(
        request.app.state.pool, caller.username, datetime.now(UTC), len(data), settings.media_bytes_per_day
    )
    info = await media_store.store(
        request.app.state.pool, settings.media_dir, data, content_type, caller.me, settings.media_max_bytes
    )
    return {
        "sha256": info.sha256,
        "content_type": info.content_type,
        "kind": info.kind,
        "size": info.size,
        "url": f"{UPLOAD_PATH}/{info.sha256}",
    }


@router.get(
    "/media/{sha256}",
    response_class=FileResponse,
    responses={200: {"description": "the stored bytes"}, 404: {"description": "no such media"}},
)
async def get_media(sha256: Sha256, request: Request, caller: Caller) -> Response:
    """Stored bytes granted to the caller (their upload) or to one of their cases; each read is logged.

    Images are shown inline; anything else (a PDF) is a download that cannot run script in the product's origin."""
    settings: WebSettings = request.app.state.settings
    pool = request.app.state.pool
    found = await media_store.describe(pool, [sha256])
    if sha256 not in found or not await media_grants.visible(pool, sha256, caller):
        raise NotFound(f"no media {sha256}")
    await access_log.record(pool, caller, address(request), "media", sha256, [found[sha256].kind])
    headers = _serving_headers(sha256, found[sha256].content_type)
    if sha256 in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    path = media_store.path_for(settings.media_dir, sha256)
    if not path.is_file():
        log.error("media %s is recorded but its file is missing at %s", sha256, path)
        raise NotFound(f"the file of media {sha256} is missing; run the audit")
    return FileResponse(path, media_type=found[sha256].content_type, headers=headers)


def _serving_headers(sha256: str, content_type: str) -> dict[str, str]:
    """Cache by hash, never sniff; anything but an image downloads as an attachment in a sandbox."""
    headers = {
        "ETag": f'"{sha256}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    if not content_type.startswith("image/"):
        extension = mimetypes.guess_extension(content_type) or ""
        headers["Content-Disposition"] = f'attachment; filename="{sha256}{extension}"'
        headers["Content-Security-Policy"] = "sandbox"
    return headers
