"""The local sink and the delivery process started on a test session's stack, as make run starts them."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator

import httpx

from tests.integration.harness import ROOT, VENV_BIN, LiveStack, Service, free_port, wait_for

DELIVERY_ENV = {
    "GRID_DELIVERY_BACKOFF_SECONDS": "1",
    "GRID_DELIVERY_BACKOFF_CAP_SECONDS": "4",
    "GRID_DELIVERY_MAX_ATTEMPTS": "6",
    "GRID_DELIVERY_LEASE_SECONDS": "3",
    "GRID_DELIVERY_POLL_SECONDS": "0.2",
    "GRID_KAFKA_USERNAME": "",
    "GRID_KAFKA_PASSWORD": "",
}


@contextlib.asynccontextmanager
async def running_sink(stack: LiveStack) -> AsyncIterator[str]:
    """The local sink on a port of its own; yields its base URL."""
    port = free_port()
    service = stack.start(
        "sink", str(VENV_BIN / "python"), "-m", "dispatch.delivery.sink", env={"GRID_SINK_PORT": str(port)}
    )
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{url}/api/messages")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(up, "the sink to answer")
        yield url
    finally:
        service.stop()


@contextlib.asynccontextmanager
async def running_delivery(stack: LiveStack, sink_url: str, township: str) -> AsyncIterator[Service]:
    """The delivery process sending SMS to the sink, with a robot of `township` at the sink (added with gridctl)."""
    gridctl = str(VENV_BIN / "gridctl")
    robot = f"{sink_url}/webhook/{township}"
    added = await asyncio.to_thread(
        subprocess.run,
        [gridctl, "delivery", "webhook-add", "乡镇指挥群", robot, "--unit", township, "--by", "test"],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    robot_id = added.stdout.strip()
    env = {**DELIVERY_ENV, "GRID_SMS_URL": f"{sink_url}/sms", "GRID_SMS_API_KEY": "test-key"}
    service = stack.start("delivery", str(VENV_BIN / "python"), "-m", "dispatch.delivery", env=env)
    try:
        yield service
    finally:
        service.stop()
        stack.run(gridctl, "delivery", "webhook-enable", robot_id, "--off", "--by", "test")
