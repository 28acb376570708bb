"""The base maps a deployment offers under its grids, read from the settings (no I/O): an XYZ raster tile service
(天地图 with its key, or any URL template) and a local PMTiles file the web app serves. None configured: the pages
draw only the project's own layers, which is the offline default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from web.settings import WebSettings

PMTILES_PATH = "/api/v1/basemaps/local.pmtiles"
TIANDITU = "https://t{s}.tianditu.gov.cn/DataServer?T={layer}_w&x={x}&y={y}&l={z}&tk={tk}"
"""天地图's Web Mercator tiles (CGCS2000, which WGS-84 coordinates match to within a metre); `{s}` is 0-7."""
TIANDITU_SUBDOMAINS = tuple(str(n) for n in range(8))
TIANDITU_ATTRIBUTION = "© 天地图 国家地理信息公共服务平台"


class BaseMap(BaseModel):
    """One base map the pages may draw: its raster tile layers, bottom first (a picture, then its annotations)."""

    id: Literal["xyz", "pmtiles"]
    name: str
    kind: Literal["xyz", "pmtiles"]
    layers: list[list[str]]
    """Each layer's tile URLs (XYZ templates, one per subdomain); for a PMTiles file, its address."""
    attribution: str
    max_zoom: int


class InvalidBaseMap(ValueError):
    """A base-map setting the pages could not use (named in the message)."""


def _expand(template: str, subdomains: Sequence[str], key: str) -> list[str]:
    """The template once per subdomain (`{s}`), with the key (`{tk}`) filled in."""
    filled = template.replace("{tk}", key)
    if "{s}" not in filled:
        return [filled]
    if not subdomains:
        raise InvalidBaseMap("GRID_BASEMAP_URL has {s} but GRID_BASEMAP_SUBDOMAINS is empty")
    return [filled.replace("{s}", s) for s in subdomains]


def _xyz(settings: WebSettings) -> BaseMap | None:
    """The configured tile service: GRID_BASEMAP_URL (and GRID_BASEMAP_OVERLAY_URL), else 天地图 with its key."""
    key = settings.tianditu_key
    if settings.basemap_url:
        templates = [settings.basemap_url, *([settings.basemap_overlay_url] if settings.basemap_overlay_url else [])]
        subdomains = [s.strip() for s in settings.basemap_subdomains.split(",") if s.strip()]
        name, attribution = settings.basemap_name or "XYZ", settings.basemap_attribution
    elif key:
        templates = [TIANDITU.replace("{layer}", layer) for layer in ("vec", "cva")]
        subdomains = list(TIANDITU_SUBDOMAINS)
        name, attribution = settings.basemap_name or "天地图", settings.basemap_attribution or TIANDITU_ATTRIBUTION
    else:
        return None
    layers = [_expand(t, subdomains, key) for t in templates]
    for url in (u for layer in layers for u in layer):
        if not all(token in url for token in ("{z}", "{x}", "{y}")):
            raise InvalidBaseMap(f"GRID_BASEMAP_URL must hold {{z}}, {{x}} and {{y}}: {url}")
        _origin(url)
    return BaseMap(
        id="xyz", name=name, kind="xyz", layers=layers, attribution=attribution, max_zoom=settings.basemap_max_zoom
    )


def _origin(url: str) -> str:
    """The scheme and host of a tile URL, as a CSP source; only http(s) URLs with a host are taken."""
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidBaseMap(f"a base-map URL must be http(s) with a host: {url}")
    return f"{parts.scheme}://{urlsplit(url).netloc}"


def basemaps(settings: WebSettings) -> list[BaseMap]:
    """The base maps on offer, in the order the layer switch lists them; empty by default (offline)."""
    offered: list[BaseMap] = []
    xyz = _xyz(settings)
    if xyz:
        offered.append(xyz)
    if settings.basemap_pmtiles:
        offered.append(
            BaseMap(
                id="pmtiles",
                name=settings.basemap_pmtiles_name,
                kind="pmtiles",
                layers=[[PMTILES_PATH]],
                attribution=settings.basemap_pmtiles_attribution,
                max_zoom=settings.basemap_max_zoom,
            )
        )
    return offered


def tile_origins(settings: WebSettings) -> list[str]:
    """The origins the pages fetch tiles from besides their own: exactly those of the configured tile service."""
    xyz = _xyz(settings)
    if not xyz:
        return []
    return sorted({_origin(url) for layer in xyz.layers for url in layer})
