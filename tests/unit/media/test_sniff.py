"""Media are judged by their bytes: magic numbers decide the type, never a name or a declared header."""

from __future__ import annotations

import pytest

from dispatch.media import sniff as media_sniff
from dispatch.media.sniff import EmptyMedia, MediaTooLarge, UnsupportedMedia, check_upload, sniff
from dispatch.media.store import path_for
from tests.media_samples import GIF, JPEG, MP4, PDF, TEXT, WEBP, png


@pytest.mark.parametrize(
    ("data", "content_type", "kind"),
    [
        (png(), "image/png", "photo"),
        (JPEG, "image/jpeg", "photo"),
        (WEBP, "image/webp", "photo"),
        (PDF, "application/pdf", "document"),
        (MP4, "video/mp4", "video"),
    ],
)
def test_each_allowed_type_is_recognised_from_its_bytes(data: bytes, content_type: str, kind: str) -> None:
    assert sniff(data) == content_type
    assert check_upload(data, content_type) == content_type
    assert media_sniff.KINDS[content_type] == kind


def test_an_undeclared_or_generic_type_is_taken_from_the_bytes() -> None:
    assert check_upload(png(), None) == "image/png"
    assert check_upload(PDF, "application/octet-stream") == "application/pdf"
    assert check_upload(JPEG, "Image/JPG; charset=binary") == "image/jpeg"


def test_a_png_declared_as_jpeg_is_refused() -> None:
    with pytest.raises(UnsupportedMedia, match="declared as image/jpeg but the bytes are image/png"):
        check_upload(png(), "image/jpeg")


def test_a_text_file_named_like_a_photo_is_refused() -> None:
    # The store never sees a file name: "evidence.jpg" sent as image/jpeg is still judged by its bytes.
    assert sniff(TEXT) is None
    with pytest.raises(UnsupportedMedia, match="unrecognised type"):
        check_upload(TEXT, "image/jpeg")


def test_a_recognised_but_not_allowed_type_is_named() -> None:
    assert sniff(GIF) is None
    with pytest.raises(UnsupportedMedia, match="the bytes are image/gif; allowed: image/jpeg"):
        check_upload(GIF, "image/gif")


def test_empty_and_oversized_uploads_are_refused() -> None:
    with pytest.raises(EmptyMedia):
        check_upload(b"", "image/png")
    with pytest.raises(MediaTooLarge, match="larger than 100 bytes"):
        check_upload(png() + b"\x00" * 100, "image/png", max_bytes=100)


def test_files_are_laid_out_by_hash_and_bad_hashes_are_refused() -> None:
    sha = "ab" + "cd" + "0" * 60
    assert path_for("/m", sha).as_posix() == f"/m/ab/cd/{sha}"
    for bad in ("../../etc/passwd", sha.upper(), sha[:-1]):
        with pytest.raises(ValueError):
            path_for("/m", bad)
