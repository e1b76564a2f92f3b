"""The OpenAPI document is valid and matches the Flask route map both ways."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from api.openapi import openapi_path


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _api_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint in app.view_functions
    ]


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_rule_is_documented_with_its_methods(app, document):
    rules = _api_rules(app)
    assert len(rules) >= 30
    for rule in rules:
        path, parameters = openapi_path(rule.rule)
        assert path in document["paths"], rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path].get(method.lower())
            assert operation is not None, (rule.rule, method)
            assert operation["summary"] and operation["operationId"]
            assert [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"] == [
                p["name"] for p in parameters
            ]


def test_every_documented_path_exists(app, document):
    routes = {}
    for rule in app.url_map.iter_rules():
        path, _ = openapi_path(rule.rule)
        routes.setdefault(path, set()).update(m.lower() for m in rule.methods)
    for path, item in document["paths"].items():
        assert path in routes, path
        assert set(item) <= routes[path], path


def test_operations_carry_docs_tags_and_security(document):
    groups = document["paths"]["/api/v1/groups/{group_id}"]["get"]
    assert groups["summary"].startswith("Show a group")
    assert groups["tags"] == ["social"]
    assert groups["parameters"][0]["schema"] == {"type": "integer"}
    assert {"401", "403", "404", "422"} <= set(groups["responses"])
    assert document["paths"]["/api/v1/admin/users"]["get"]["tags"] == ["admin"]
    # A view's `openapi` attribute is merged in: a request schema and 201 instead of 200.
    create = document["paths"]["/api/v1/groups"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["required"] == ["name"]
    assert "201" in create["responses"] and "200" not in create["responses"]
    assert document["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer" and schemes["cookieAuth"]["in"] == "cookie"


def test_the_document_needs_a_login_or_a_token(app, anonymous, client):
    assert anonymous.get("/api/v1/openapi.json").status_code == 401
    secret = client.post("/api/v1/tokens", json={"name": "docs"}).get_json()["token"]
    response = anonymous.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and "/api/v1/openapi.json" in response.get_json()["paths"]


def test_openapi_path_converts_werkzeug_rules():
    assert openapi_path("/api/v1/feed/<int:post_id>/like") == (
        "/api/v1/feed/{post_id}/like",
        [{"name": "post_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    )
    path, parameters = openapi_path("/vendor/<path:filename>")
    assert path == "/vendor/{filename}" and parameters[0]["schema"] == {"type": "string"}
