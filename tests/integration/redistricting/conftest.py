"""What the redistricting modules with a stack of their own share: the administrator's client on that stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.integration.auth import admin_headers
from tests.integration.harness import LiveStack, client_on


@pytest_asyncio.fixture(scope="module")
async def admin(stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with client_on(stack, admin_headers()) as client:
        yield client
