"""Read a grid file's features from its bytes: GeoJSON, or an ESRI shapefile (zipped, or its .shp beside its .shx and
.dbf). No database; the attributes come back as the file has them."""

from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import shapefile

from dispatch.errors import Invalid

ZIP_MAGIC = b"PK\x03\x04"
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
"""Most bytes a zipped shapefile may unpack to (its .shp, .shx, .dbf and .cpg together)."""
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".cpg")
FALLBACK_ENCODINGS = ("utf-8", "gbk")
"""Tried in order when a shapefile has no .cpg: GIS tools of Chinese counties write GBK (code page 936)."""
CODE_PAGES = {"936": "gbk", "cp936": "gbk", "65001": "utf-8", "ansi 936": "gbk", "gb2312": "gbk"}


@dataclass(frozen=True)
class Feature:
    """One feature as read: its attributes and its geometry (GeoJSON-like), and where it is in the file (from 1)."""

    number: int
    properties: dict[str, Any]
    geometry: dict[str, Any] | None


@dataclass(frozen=True)
class GridFile:
    """Every feature of a file, the attribute names it has, and how a shapefile's text was encoded."""

    features: list[Feature]
    field_names: list[str]
    encoding: str = "utf-8"


class UnreadableFile(Invalid):
    """The bytes are neither GeoJSON nor a shapefile that can be read."""

    kind = "grid_file_unreadable"

    def __init__(self, msg: str, loc: tuple[str | int, ...] = ("body", "file")) -> None:
        super().__init__(msg, loc)


def read_grid_file(data: bytes, name: str = "upload") -> GridFile:
    """The features of a GeoJSON document or a zipped shapefile, told apart by their bytes."""
    if data.startswith(ZIP_MAGIC):
        return _read_zip(data, name)
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return _read_geojson(stripped, name)
    raise UnreadableFile(f"{name}: neither GeoJSON nor a zipped shapefile (.zip holding .shp, .shx and .dbf)")


def read_grid_path(path: Path) -> GridFile:
    """The features of a file on disk: .geojson/.json, .zip, or a .shp with its .shx and .dbf beside it."""
    if path.suffix.lower() != ".shp":
        return read_grid_file(path.read_bytes(), path.name)
    parts: dict[str, bytes] = {}
    for suffix in SHAPEFILE_PARTS:
        sibling = next((p for p in path.parent.iterdir() if p.stem == path.stem and p.suffix.lower() == suffix), None)
        if sibling is not None:
            parts[suffix] = sibling.read_bytes()
    return _read_shapefile(parts, path.name)


def _read_geojson(data: bytes, name: str) -> GridFile:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UnreadableFile(f"{name}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise UnreadableFile(f"{name}: a GeoJSON FeatureCollection is expected")
    raw = document.get("features")
    if not isinstance(raw, list):
        raise UnreadableFile(f"{name}: `features` must be a list")
    features: list[Feature] = []
    names: dict[str, None] = {}
    for n, item in enumerate(raw, start=1):
        item = item if isinstance(item, dict) else {}
        props: dict[Any, Any] = item["properties"] if isinstance(item.get("properties"), dict) else {}
        geometry = item["geometry"] if isinstance(item.get("geometry"), dict) else None
        names.update(dict.fromkeys(str(k) for k in props))
        features.append(Feature(n, {str(k): v for k, v in props.items()}, geometry))
    return GridFile(features, list(names))


def _read_zip(data: bytes, name: str) -> GridFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            found = ", ".join(m.filename for m in shps) or "none"
            raise UnreadableFile(f"{name}: the archive must hold exactly one .shp (found: {found})")
        stem = shps[0].filename[:-4]
        wanted = {m.filename[len(stem) :].lower(): m for m in members if m.filename[:-4] == stem}
        parts_info = {s: wanted[s] for s in SHAPEFILE_PARTS if s in wanted}
        if sum(m.file_size for m in parts_info.values()) > MAX_UNZIPPED_BYTES:
            raise UnreadableFile(f"{name}: the shapefile unpacks to more than {MAX_UNZIPPED_BYTES} bytes")
        parts = {s: archive.read(m) for s, m in parts_info.items()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise UnreadableFile(f"{name}: not a readable zip archive: {exc}") from exc
    return _read_shapefile(parts, Path(shps[0].filename).name)


def _encodings(cpg: bytes | None) -> tuple[str, ...]:
    if cpg is None:
        return FALLBACK_ENCODINGS
    declared = cpg.decode("ascii", errors="ignore").strip().lower()
    declared = CODE_PAGES.get(declared, declared)
    try:
        return (codecs.lookup(declared).name,)
    except LookupError:
        return FALLBACK_ENCODINGS


def _read_shapefile(parts: dict[str, bytes], name: str) -> GridFile:
    missing = [s for s in (".shp", ".shx", ".dbf") if s not in parts]
    if missing:
        raise UnreadableFile(f"{name}: a shapefile needs its {', '.join(missing)} too")
    last: Exception | None = None
    for encoding in _encodings(parts.get(".cpg")):
        try:
            return _shapes(parts, encoding)
        except Exception as exc:  # pyshp fails on broken bytes in many ways (struct, index, type, decode errors)
            last = exc
    raise UnreadableFile(f"{name}: the shapefile cannot be read: {last}")


def _shapes(parts: dict[str, bytes], encoding: str) -> GridFile:
    streams = {k.lstrip("."): io.BytesIO(parts[k]) for k in (".shp", ".shx", ".dbf")}
    with shapefile.Reader(**streams, encoding=encoding) as reader:
        names = [f.name for f in reader.fields[1:]]
        features = [
            Feature(n, rec.record.as_dict(), _geometry(rec.shape))
            for n, rec in enumerate(reader.iterShapeRecords(), start=1)
        ]
    return GridFile(features, names, encoding)


def _geometry(shape: Any) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = shape.__geo_interface__
    except (AttributeError, ValueError, TypeError, IndexError):
        return None
    return found
