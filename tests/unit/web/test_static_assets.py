"""How the built front end is served, as pure rules: which precompressed copy a client's Accept-Encoding gets, which
names are cached for a year, and which paths name no file of the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.static_assets import IMMUTABLE, REVALIDATE, accepted, cache_control, choose_encoding, safe_path

BOTH = {"br", "gzip"}


@pytest.mark.parametrize(
    ("header", "available", "chosen"),
    [
        ("gzip, deflate, br, zstd", BOTH, "br"),
        ("gzip, deflate", BOTH, "gzip"),
        ("br;q=0.5, gzip;q=1.0", BOTH, "gzip"),
        ("br;q=0, gzip", BOTH, "gzip"),
        ("identity", BOTH, None),
        ("", BOTH, None),
        (None, BOTH, None),
        ("*", BOTH, "br"),
        ("*;q=0", BOTH, None),
        ("br", {"gzip"}, None),
        ("gzip, br", {"gzip"}, "gzip"),
        ("GZIP", BOTH, "gzip"),
        ("br;q=nonsense, gzip", BOTH, "gzip"),
    ],
)
def test_the_best_copy_the_client_takes(header: str | None, available: set[str], chosen: str | None) -> None:
    assert choose_encoding(header, available) == chosen


def test_q_values_are_read() -> None:
    assert accepted("gzip;q=0.8, br ; q=0.2, identity") == {"gzip": 0.8, "br": 0.2, "identity": 1.0}


@pytest.mark.parametrize(
    ("relative", "policy"),
    [
        ("assets/worker-CJloc_O2.js", IMMUTABLE),
        ("assets/map-base--S9olhOP.css", IMMUTABLE),
        ("assets/maplibre-gl-worker-DQEZl3ku.js", IMMUTABLE),
        ("index.html", REVALIDATE),
        ("m/worker/index.html", REVALIDATE),
        ("sw.js", REVALIDATE),
        ("assets/logo.svg", REVALIDATE),
    ],
)
def test_only_hashed_assets_are_immutable(relative: str, policy: str) -> None:
    assert cache_control(relative) == policy


@pytest.fixture
def build(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "a-12345678.js").write_text("export {}")
    (root / "assets" / "a-12345678.js.br").write_bytes(b"\x0b")
    (root / ".hidden").write_text("x")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    return root


def test_a_file_of_the_build_is_found(build: Path) -> None:
    assert safe_path(build, "assets/a-12345678.js") == (build / "assets" / "a-12345678.js").resolve()


@pytest.mark.parametrize(
    "relative",
    [
        "../secret.txt",
        "assets/../../secret.txt",
        "/etc/passwd",
        "assets\\..\\..\\secret.txt",
        "escape",  # a link out of the build
        ".hidden",
        "assets/a-12345678.js.br",  # the copies are chosen by the server, never named
        "assets",
        "",
        "assets/missing.js",
        "assets/a-12345678.js\x00.png",
    ],
)
def test_paths_that_name_no_file_of_the_build(build: Path, relative: str) -> None:
    assert safe_path(build, relative) is None
