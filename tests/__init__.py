"""The test suite; it runs with the installation's secrets (see `_installation_secrets`)."""

import os
from pathlib import Path


def _installation_secrets() -> None:
    """Secrets infra/lib.sh made for this checkout, for a pytest run outside make test (the environment wins)."""
    path = Path(__file__).resolve().parent.parent / ".stack" / "secrets.env"
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            os.environ.setdefault(name, value)
    # The test process itself acts on the broker as admin (infra/lib.sh sets the same for make test).
    if "GRID_KAFKA_PASSWORD_ADMIN" in os.environ:
        os.environ.setdefault("GRID_KAFKA_USERNAME", "admin")
        os.environ.setdefault("GRID_KAFKA_PASSWORD", os.environ["GRID_KAFKA_PASSWORD_ADMIN"])


_installation_secrets()
