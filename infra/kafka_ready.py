"""Wait until the Kafka broker answers metadata requests; used by infra/stack.sh.

    .venv/bin/python infra/kafka_ready.py [--bootstrap HOST:PORT] [--timeout SECONDS]

Exit 0 once describe_cluster lists a broker and list_topics answers, 1 on timeout. It logs in as
GRID_KAFKA_USERNAME with GRID_KAFKA_PASSWORD (infra/stack.sh: admin).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from kafka.admin import KafkaAdminClient

from dispatch.settings import CommonSettings


def probe(bootstrap: str, timeout_ms: int, login: dict[str, str]) -> int:
    """Ask the broker for its cluster metadata; return the number of brokers."""
    wanted = {
        **login,
        "client_id": "grid-stack-health",
        "request_timeout_ms": timeout_ms,
        "bootstrap_timeout_ms": timeout_ms,  # kafka-python 3
        "api_version_auto_timeout_ms": timeout_ms,  # kafka-python 2
    }
    known = KafkaAdminClient.DEFAULT_CONFIG
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **{k: v for k, v in wanted.items() if k in known})
    try:
        cluster = admin.describe_cluster()
        admin.list_topics()
    finally:
        admin.close()
    return len(cluster.get("brokers", []))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", default=os.environ.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"))
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    args = parser.parse_args()
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # connection-refused noise while starting

    login = CommonSettings().kafka_options()
    deadline = time.monotonic() + args.timeout
    last_error = "no attempt"
    while True:
        remaining = deadline - time.monotonic()
        try:
            if probe(args.bootstrap, int(max(1.0, min(5.0, remaining)) * 1000), login) > 0:
                return 0
            last_error = "no broker registered yet"
        except Exception as exc:  # any failure means "not ready yet"
            last_error = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + 1 >= deadline:
            print(f"kafka at {args.bootstrap} not ready after {args.timeout:.0f}s: {last_error}", file=sys.stderr)
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
