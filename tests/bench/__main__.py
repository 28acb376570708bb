"""`make bench`: a private slice of the real stack (fresh database and topics, the demo county), the broker's raw rate,
then the product's figures; the last line is one JSON object with them all."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from dispatch.settings import CommonSettings
from streams.acls import STREAM
from tests.bench import runs
from tests.bench.load import BENCH_ENV
from tests.bench.raw import raw_produce
from tests.integration.conftest import running_stack
from tests.integration.harness import ARTIFACTS, VENV_BIN, LiveStack, process_user

SUSTAIN_S = float(os.environ.get("BENCH_SECONDS", "60"))


def say(line: str) -> None:
    print(line, flush=True)


def processes(ts: LiveStack) -> dict[str, int]:
    """The pids of the stack's stream worker and web server, to read their CPU time."""
    return {s.name: s.proc.pid for s in ts.services if s.name in ("streams", "web")}


def second_worker(ts: LiveStack) -> subprocess.Popen[bytes]:
    """Another stream worker in the same consumer group, with a data dir of its own."""
    env = {**ts.env, "GRID_DATA_DIR": ts.env["GRID_DATA_DIR"] + "-2", **process_user(STREAM)}
    log = (ARTIFACTS / f"{ts.suffix}-streams-2.log").open("wb")
    argv = [str(VENV_BIN / "python"), "-m", "streams", "worker", "--without-web", "-l", "info"]
    return subprocess.Popen(argv, env=env, cwd=Path.cwd(), stdout=log, stderr=subprocess.STDOUT)


async def measure(ts: LiveStack) -> dict[str, Any]:
    """Every figure, in an order that keeps each one's conditions clean."""
    env, out = ts.env, {}
    bootstrap = env.get("GRID_KAFKA_BOOTSTRAP", CommonSettings().kafka_bootstrap)
    produced, consumed = await raw_produce(bootstrap, env["GRID_TOPIC_PREFIX"])
    out |= {"raw_produce_per_s": round(produced), "raw_consume_per_s": round(consumed)}
    say(f"raw broker: {produced:,.0f} records/s produced (acks=all, 480 B), {consumed:,.0f}/s consumed")
    pool = await asyncpg.create_pool(env["GRID_DATABASE_URL"], min_size=1, max_size=4)
    try:
        batch = await runs.batch_sustained(ts.base_url, pool, SUSTAIN_S, processes(ts))
        out["batch_events_per_s"] = round(batch["per_s"])
        out |= {k: round(v, 3) for k, v in batch.items() if k.startswith("cpu_ms_per_event")}
        say(
            f"batch door, {SUSTAIN_S:.0f} s sustained, 1 worker: {batch['events']:,.0f} events stored in "
            f"{batch['seconds']:.1f} s = {batch['per_s']:,.0f} events/s end to end "
            f"(intake {batch['intake_per_s']:,.0f}/s, {batch['live_messages']:,.0f} live messages); CPU per event: "
            f"stream worker {batch['cpu_ms_per_event_streams']:.2f} ms, "
            f"web server {batch['cpu_ms_per_event_web']:.2f} ms"
        )
        for rate, category in ((1000, "road"), (200, "flood")):
            await runs.drained(pool)
            fixed = await runs.to_screen(ts.base_url, pool, rate, category=category)
            out[f"p99_event_to_screen_ms_at_{'1k' if rate == 1000 else rate}"] = round(fixed["p99_ms"])
            say(
                f"{rate:,} events/s for 20 s: POST → screen p50 {fixed['p50_ms']:.0f} ms, "
                f"p99 {fixed['p99_ms']:.0f} ms ({fixed['seen']:.1%} seen)"
            )
        await runs.drained(pool)
        phone = await runs.phone(ts.base_url, pool)
        out["phone_events_per_s"] = round(phone["per_s"])
        say(
            f"single door, 64 phones: {phone['per_s']:,.0f} events/s accepted, p50 {phone['p50_ms']:.0f} ms, "
            f"p99 {phone['p99_ms']:.0f} ms"
        )
        await runs.drained(pool)
        cmd = await runs.commands(ts.base_url, pool)
        out["commands_per_s"] = round(cmd["per_s"])
        say(
            f"commands, 64 clients, answered once applied: {cmd['per_s']:,.0f}/s, p50 {cmd['p50_ms']:.0f} ms, "
            f"p99 {cmd['p99_ms']:.0f} ms"
        )
        out |= await _with_many_recent(ts, pool, batch["per_s"])
        out |= await _with_two_workers(ts, pool)
    finally:
        await pool.close()
    return out


async def _with_many_recent(ts: LiveStack, pool: asyncpg.Pool, baseline: float) -> dict[str, Any]:
    """The batch rate once 100,000 recent open cases are on record (the worker restarted to rebuild its memory)."""
    await runs.drained(pool)
    recent = await runs.seed_recent_cases(pool)
    worker = next(s for s in ts.services if s.name == "streams")
    worker.stop()
    ts.services.remove(worker)
    worker = [str(VENV_BIN / "python"), "-m", "streams", "worker", "--without-web", "-l", "info"]
    ts.start("streams", *worker, env=process_user(STREAM))
    busy = await runs.batch_sustained(ts.base_url, pool, SUSTAIN_S / 2, processes(ts))
    say(
        f"batch door with {recent:,} recent open cases: {busy['per_s']:,.0f} events/s "
        f"(ratio {busy['per_s'] / baseline:.2f})"
    )
    return {
        "flat_ratio": round(busy["per_s"] / baseline, 2),
        "batch_events_per_s_with_100k_recent": round(busy["per_s"]),
    }


async def _with_two_workers(ts: LiveStack, pool: asyncpg.Pool) -> dict[str, Any]:
    """The batch rate with one stream worker, then with two in the same consumer group."""
    await runs.drained(pool)
    one = await runs.batch_sustained(ts.base_url, pool, SUSTAIN_S / 2, processes(ts))
    await runs.drained(pool)
    extra = second_worker(ts)
    try:
        two = await runs.batch_sustained(ts.base_url, pool, SUSTAIN_S / 2, processes(ts))
    finally:
        extra.terminate()
        extra.wait(timeout=30)
    say(f"workers: 1 → {one['per_s']:,.0f} events/s, 2 → {two['per_s']:,.0f} events/s")
    return {
        "workers_1_events_per_s": round(one["per_s"]),
        "workers_2_events_per_s": round(two["per_s"]),
        "workers_2_vs_1": round(two["per_s"] / one["per_s"], 2),
    }


def main() -> None:
    """Start the slice, measure, print the JSON summary last."""
    quiet = ("--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "60")
    with running_stack(["demo", "load", "--no-notify"], web_args=quiet, extra_env=BENCH_ENV) as ts:
        say(
            f"bench on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores; broker, PostGIS, worker, web "
            "server and load generator on this machine"
        )
        summary = asyncio.run(measure(ts))
        print(json.dumps(summary, sort_keys=True), flush=True)  # before the slice is torn down


if __name__ == "__main__":
    main()
