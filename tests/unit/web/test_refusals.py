"""The implied refusals: what each kind of operation can answer is declared, and an operation's own wins."""

from __future__ import annotations

from typing import Any

from web.refusals import REFUSAL, declared

SECURED: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}]


def _schema(operation: dict[str, Any]) -> dict[str, Any]:
    return {"paths": {"/x/{id}": {"post": operation}}}


def _statuses(operation: dict[str, Any]) -> set[str]:
    return set(declared(_schema(operation))["paths"]["/x/{id}"]["post"]["responses"])


def test_a_signed_in_operation_with_a_path_and_a_body_declares_every_refusal_it_can_meet() -> None:
    operation = {
        "security": SECURED,
        "parameters": [{"in": "path", "name": "id"}],
        "requestBody": {"content": {}},
        "tags": ["intake"],
        "responses": {"200": {"description": "ok"}},
    }
    assert _statuses(operation) == {"200", "401", "403", "404", "413", "422", "429", "503"}


def test_an_open_operation_without_input_can_only_meet_a_fault() -> None:
    assert _statuses({"responses": {"200": {"description": "ok"}}}) == {"200", "503"}


def test_the_operation_keeps_its_own_description_and_every_refusal_gets_the_refusal_body() -> None:
    own = {"409": {"description": "not in this state"}}
    schema = declared(_schema({"security": SECURED, "responses": own}))
    responses = schema["paths"]["/x/{id}"]["post"]["responses"]
    assert responses["409"]["description"] == "not in this state"
    body = responses["409"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{REFUSAL}"}
    assert "Retry-After" in responses["503"]["headers"]
    assert {"Refusal", "FieldFault"} <= set(schema["components"]["schemas"])
