"""The base maps a deployment offers, from its settings: none by default, 天地图 from its key alone, any XYZ template,
a local PMTiles file; the tile servers the pages' CSP admits are exactly the configured ones."""

from __future__ import annotations

from typing import Any

import pytest

from web.basemap import PMTILES_PATH, InvalidBaseMap, basemaps, tile_origins
from web.security_headers import API_HEADERS, headers_for, page_policy
from web.settings import WebSettings

UNSET = {
    "basemap_url": "",
    "basemap_overlay_url": "",
    "basemap_subdomains": "",
    "basemap_name": "",
    "basemap_attribution": "",
    "tianditu_key": "",
    "basemap_pmtiles": "",
}


def settings(**given: Any) -> WebSettings:
    return WebSettings(**{**UNSET, **given})


def test_none_by_default() -> None:
    assert basemaps(settings()) == [] and tile_origins(settings()) == []


def test_tianditu_from_its_key_alone() -> None:
    offered = basemaps(settings(tianditu_key="abc123"))
    assert [(b.id, b.name) for b in offered] == [("xyz", "天地图")]
    vec, cva = offered[0].layers
    assert len(vec) == len(cva) == 8
    assert vec[0] == "https://t0.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=abc123"
    assert cva[7] == "https://t7.tianditu.gov.cn/DataServer?T=cva_w&x={x}&y={y}&l={z}&tk=abc123"
    assert "天地图" in offered[0].attribution
    assert tile_origins(settings(tianditu_key="abc123")) == [f"https://t{n}.tianditu.gov.cn" for n in range(8)]


def test_an_xyz_template_and_a_pmtiles_file() -> None:
    given = settings(
        basemap_url="https://tiles.example.cn/{z}/{x}/{y}.png",
        basemap_attribution="© example",
        basemap_pmtiles="/srv/county.pmtiles",
    )
    xyz, local = basemaps(given)
    assert xyz.layers == [["https://tiles.example.cn/{z}/{x}/{y}.png"]] and xyz.name == "XYZ"
    assert (local.id, local.kind, local.layers) == ("pmtiles", "pmtiles", [[PMTILES_PATH]])
    assert tile_origins(given) == ["https://tiles.example.cn"]  # the file is served by the app itself
    assert tile_origins(settings(basemap_pmtiles="/srv/county.pmtiles")) == []


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"basemap_url": "https://tiles.example.cn/{z}/{x}.png"}, "{y}"),
        ({"basemap_url": "https://t{s}.example.cn/{z}/{x}/{y}.png"}, "GRID_BASEMAP_SUBDOMAINS"),
        ({"basemap_url": "ftp://tiles.example.cn/{z}/{x}/{y}.png"}, "http(s)"),
    ],
)
def test_a_template_the_pages_could_not_use_is_refused(given: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidBaseMap, match=named.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{")):
        basemaps(settings(**given))


def test_the_page_policy_admits_exactly_the_tile_origins() -> None:
    origins = ["https://t0.example.cn", "https://t1.example.cn"]
    policy = headers_for("/", origins)["content-security-policy"]
    assert policy == page_policy(origins)
    assert "img-src 'self' data: blob: https://t0.example.cn https://t1.example.cn;" in policy
    assert "connect-src 'self' https://t0.example.cn https://t1.example.cn;" in policy
    assert "script-src 'self';" in policy and "worker-src 'self' blob:;" in policy
    assert headers_for("/api/v1/basemaps", origins) == API_HEADERS
