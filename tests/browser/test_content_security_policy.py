"""The pages' Content-Security-Policy in Chromium: each app loads, draws its map and goes live with no violation
reported (every browser test checks that through `open_page`), and a script injected into a page is refused and
reported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import SignIn
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


@pytest.mark.parametrize(
    ("path", "kind", "username"),
    [("/", "desk", "admin"), ("/m/worker", "phone", "worker"), ("/m/officer", "phone", "officer")],
)
async def test_each_app_loads_and_goes_live_under_the_policy(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, page_errors: list[str], path: str, kind: str, username: str
) -> None:
    context = await contexts(kind)
    await sign_in(context, username)
    page = await open_page(context, path)  # ready, and the live channel open (connect-src)
    if path == "/":  # the map, its worker and its icons
        await page.wait_for_function("() => window.__app.map.loaded()", timeout=30_000)
    assert page_errors == []


async def test_an_injected_inline_script_is_refused_and_reported(
    contexts: Contexts, open_page: Opener, page_errors: list[str]
) -> None:
    context = await contexts("phone")
    page = await open_page(context, "/m/worker", ready=False)
    await page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.__injected = true';
            document.head.append(script);
        }"""
    )

    async def reported() -> bool | None:
        return any("Content Security Policy" in e for e in page_errors) or None

    await wait_for(reported, "the violation in the console", within=5)
    assert await page.evaluate("() => window.__injected") is None
    page_errors.clear()  # the violation this test caused on purpose
