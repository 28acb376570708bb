"""The demo's devices: three cameras and a water-level sensor inside the township's first grids, and alerts that
pass the intake's model."""

from __future__ import annotations

from core.devices import DeviceSpec
from core.events import EVENT_ADAPTER
from ingest.device_sim import alert, devices_in


def grid(code: str) -> dict[str, object]:
    return {"properties": {"code": code, "name": f"网格{code[-3:]}", "township_code": code[:9]}}


def test_three_cameras_and_a_sensor_registered_in_the_township() -> None:
    grids = [grid(f"510822100201{n:03d}") for n in range(1, 6)]
    found = devices_in(grids, [(105.1 + n / 100, 32.5) for n in range(5)])
    assert [DeviceSpec.model_validate(body).kind for _, body in found] == ["camera"] * 3 + ["sensor"]
    assert all(body["unit_code"] == "510822100" for _, body in found)
    assert [device for device, _ in found][-1] == "wl-510822100201004"


def test_an_alert_is_a_valid_sensor_alert_of_its_device() -> None:
    (device, body), *_ = devices_in([grid("510822100201001")], [(105.1, 32.5)])
    event = EVENT_ADAPTER.validate_python(alert(device, body, "fire", "urgent", "烟火识别告警"))
    assert event.type == "sensor_alert" and event.device_id == device and event.source == "sensor"
