"""The front end's API types are generated from the app's OpenAPI schema (web/frontend/openapi.json ->
src/shared/api-types.ts); the committed schema must be the app's, or the types describe an API that is gone."""

from __future__ import annotations

import json

from tests.integration.harness import ROOT
from web.app import create_app

SCHEMA = ROOT / "web" / "frontend" / "openapi.json"


def test_the_committed_openapi_schema_is_the_apps() -> None:
    committed = json.loads(SCHEMA.read_text())
    assert committed == create_app().openapi(), (
        "web/frontend/openapi.json is stale: run `npm --prefix web/frontend run api` and commit it with "
        "src/shared/api-types.ts (the build does this too)"
    )
