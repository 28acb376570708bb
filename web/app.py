"""The web process: command-centre API, intake (loaded as a plugin), websocket hub and the pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from dispatch.access import users as users_store
from dispatch.access.http_auth import Guard
from dispatch.db import create_pool
from web import (
    access_api,
    basemap_api,
    cases_api,
    categories_api,
    devices_api,
    errors,
    exports_api,
    grid_import_api,
    inbox_api,
    live,
    media_api,
    people_api,
    queues_api,
    redistricting_api,
    refusals,
    registry_api,
    self_report_api,
    step_sla_api,
    supervision_api,
    transfer_api,
)
from web.basemap import tile_origins
from web.commands import CommandPublisher
from web.hub import LiveHub
from web.limits import BodySizeLimit
from web.notices import RegistryNotices
from web.security_headers import SecurityHeaders
from web.settings import WebSettings
from web.static_assets import file_response

log = logging.getLogger(__name__)
DIST = Path(__file__).with_name("static") / "dist"
PLUGIN_GROUP = "gridcmd.api"
CAPABILITIES = (
    access_api,
    exports_api,  # before cases_api: /cases/export is no case id
    cases_api,
    transfer_api,
    registry_api,
    devices_api,
    basemap_api,
    grid_import_api,
    categories_api,
    self_report_api,
    step_sla_api,
    supervision_api,
    inbox_api,
    people_api,
    redistricting_api,
    media_api,
    queues_api,
    live,
)
"""One router per capability; a new capability is one line here."""


def _plugins() -> list[Any]:
    """Modules that contribute routers (the intake): found by entry point, so web never imports them."""
    return [ep.load() for ep in entry_points(group=PLUGIN_GROUP)]


class UnsafeForProduction(RuntimeError):
    """Production mode with demo secrets or demo accounts."""


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the app; settings default to the environment. Refuses production mode with demo secrets."""
    settings = settings or WebSettings()
    problems = settings.production_problems()
    if problems:
        raise UnsafeForProduction("refusing to start in production: " + "; ".join(problems))
    plugins = _plugins()

    app = FastAPI(
        title="镇村治理指挥调度 Township grid command centre",
        version="0.1.0",
        lifespan=_lifespan(settings, plugins),
    )
    app.state.settings = settings
    app.state.guard = Guard.from_settings(settings)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        allowances={
            media_api.UPLOAD_PATH: settings.media_max_bytes,
            **dict.fromkeys(redistricting_api.PLAN_PATHS, settings.max_plan_bytes),
            grid_import_api.IMPORT_PATH: settings.max_grid_file_bytes,
            **{path: size for plugin in plugins for path, size in getattr(plugin, "BODY_ALLOWANCES", {}).items()},
        },
    )
    # outermost: a refused body's 413 carries the headers too; the pages may fetch the base map's tiles
    app.add_middleware(SecurityHeaders, tile_origins=tile_origins(settings))
    for plugin in plugins:
        app.include_router(plugin.router)
    for capability in CAPABILITIES:
        app.include_router(capability.router)
    errors.install(app)
    refusals.declare(app)
    _add_pages(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> dict[str, Any]:
        """Liveness with a real database round trip and the hub's counters."""
        async with request.app.state.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        hub: LiveHub = request.app.state.hub
        return {"status": "ok", "live_clients": hub.clients, "live_messages": hub.delivered}

    return app


def _lifespan(settings: WebSettings, plugins: list[Any]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the pool, the live hub, the publishers and the plugins' resources for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.pool = await create_pool(settings.database_url, max_size=settings.db_pool_size)
            stack.push_async_callback(app.state.pool.close)
            late = settings.production_problems(await users_store.demo_accounts_enabled(app.state.pool))
            if late:
                raise UnsafeForProduction("refusing to start in production: " + "; ".join(late))
            app.state.commands = CommandPublisher(settings)
            await app.state.commands.start()
            stack.push_async_callback(app.state.commands.stop)
            hub = LiveHub(settings, app.state.commands.republish)  # it dead-letters what it cannot read
            await hub.start()
            stack.push_async_callback(hub.stop)
            app.state.hub = hub
            app.state.notices = RegistryNotices(settings)
            await app.state.notices.start()
            stack.push_async_callback(app.state.notices.stop)
            for plugin in plugins:
                await stack.enter_async_context(plugin.lifespan(app))
            yield

    return lifespan


def _add_pages(app: FastAPI) -> None:
    """The browser apps built by the front end into web/static/dist, precompressed (see web/static_assets.py)."""

    def page(request: Request, relative: str) -> Response:
        if (DIST / relative).is_file():
            return file_response(request, DIST, relative)
        return JSONResponse({"detail": "front end not built: run `make run`"}, status_code=503)

    @app.api_route("/static/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def static(request: Request, path: str) -> Response:
        """The build's scripts, styles and pages: hashed names cached for a year."""
        return file_response(request, DIST, path)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index(request: Request) -> Response:
        return page(request, "index.html")

    @app.api_route("/m/worker", methods=["GET", "HEAD"], include_in_schema=False)
    async def worker_page(request: Request) -> Response:
        """The grid worker's phone page (Vite multi-page build: dist/m/worker/index.html)."""
        return page(request, "m/worker/index.html")

    @app.api_route("/m/officer", methods=["GET", "HEAD"], include_in_schema=False)
    async def officer_page(request: Request) -> Response:
        """The enforcement officer's phone page."""
        return page(request, "m/officer/index.html")

    @app.api_route("/m/sw.js", methods=["GET", "HEAD"], include_in_schema=False)
    async def service_worker(request: Request) -> Response:
        """The phone pages' service worker (scope /m/), written by the front end's build."""
        return file_response(request, DIST, "sw.js")
