"""`gridctl devices`: register, list and end cameras and sensors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from core.devices import DeviceKind, DeviceSpec
from dispatch.cli_support import console, fail, with_pool
from dispatch.clock import local_day
from dispatch.errors import DomainError
from dispatch.registry import devices

devices_app = typer.Typer(help="Cameras and sensors: add (or change), list, end.", no_args_is_help=True)
DeviceId = Annotated[str, typer.Argument(help="the device's id as its gateway names it")]


def _today() -> date:
    return local_day(datetime.now(UTC))


@devices_app.command("add")
def add(
    device_id: DeviceId,
    kind: Annotated[DeviceKind, typer.Option(help="camera or sensor")],
    name: Annotated[str, typer.Option(help="what people call it, e.g. 青溪镇政府门口")],
    lon: Annotated[float, typer.Option()],
    lat: Annotated[float, typer.Option()],
    unit: Annotated[str, typer.Option(help="the owning township or village code")],
    sensor_kind: Annotated[str | None, typer.Option(help="for a sensor: water_level, smoke, noise…")] = None,
    live_url: Annotated[str | None, typer.Option(help="its live view: rtsp://… or an HLS https://…m3u8")] = None,
    valid_from: Annotated[str | None, typer.Option(help="first day of this version, YYYY-MM-DD")] = None,
) -> None:
    """Register a device, or record its new version (a move, a new live address) from a day."""
    try:
        spec = DeviceSpec(
            kind=kind,
            sensor_kind=sensor_kind,
            name=name,
            location={"lon": lon, "lat": lat},
            unit_code=unit,
            live_url=live_url,
            valid_from=date.fromisoformat(valid_from) if valid_from else None,
        )
        row = with_pool(lambda pool: devices.put(pool, device_id, spec, "", "gridctl", _today()))
    except (ValidationError, ValueError, DomainError) as exc:
        fail(str(exc))
    console.print(f"[green]{device_id} registered[/green] in grid {row['grid_code'] or '(none)'}")


@devices_app.command("list")
def list_devices(
    unit: Annotated[str, typer.Option(help="a unit code prefix")] = "",
    on: Annotated[str | None, typer.Option(help="the day, YYYY-MM-DD")] = None,
) -> None:
    """The devices in service on a day with the grid each falls in."""
    day = date.fromisoformat(on) if on else _today()
    table = Table("id", "kind", "name", "unit", "grid", "live view", "since")
    for r in with_pool(lambda pool: devices.on_day(pool, unit, day)):
        kind = r["kind"] + (f"/{r['sensor_kind']}" if r["sensor_kind"] else "")
        table.add_row(
            r["id"], kind, r["name"], r["unit_code"], r["grid_code"] or "", r["live_url"] or "", str(r["valid_from"])
        )
    console.print(table)


@devices_app.command("end")
def end(device_id: DeviceId) -> None:
    """Take a device out of service from today."""
    try:
        with_pool(lambda pool: devices.end(pool, device_id, "", _today()))
    except DomainError as exc:
        fail(str(exc))
    console.print(f"[green]{device_id} ended[/green]")
