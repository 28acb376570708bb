"""`python -m dispatch.delivery`: the delivery process (run under supervisord by `make run`)."""

from __future__ import annotations

import asyncio
import logging

from dispatch.delivery.sender import run
from dispatch.delivery.settings import DeliverySettings


def main() -> None:
    """Read the settings and deliver until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(run(DeliverySettings()))


if __name__ == "__main__":
    main()
