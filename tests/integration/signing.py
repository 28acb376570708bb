"""Case commands signed as a trusted process signs them, with the installation's GRID_COMMAND_KEY."""

from __future__ import annotations

import os
from typing import Any

from core.cases import COMMAND_ADAPTER
from dispatch.cases.signing import CommandSigner

SIGNER = CommandSigner(os.environ["GRID_COMMAND_KEY"])


def signed_record(command: dict[str, Any]) -> bytes:
    """The command as the web app or a stream worker would put it on the commands topic."""
    return SIGNER.record(COMMAND_ADAPTER.validate_python(command))
