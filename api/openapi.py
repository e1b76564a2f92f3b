"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of the JSON API, built from the route map.

Every Flask rule under /api/v1 (plus /login, /logout and /healthz) becomes an operation, so a
new route is documented by construction:

- the path: Werkzeug's `<int:id>` becomes `{id}` with an integer path parameter;
- the methods of the rule (HEAD and OPTIONS left out);
- `summary` is the first line of the view function's docstring, `description` the rest;
- `tags` come from the blueprint (`social_api` → `social`);
- `operationId` is the endpoint (with the method appended when a view has several);
- standard error responses (401, 403, 404, 422) with the portal's error body
  {"error": {"code", "message"}}; public endpoints (portal.auth.PUBLIC_ENDPOINTS) need no
  credentials, all others accept a bearer token (personal API token) or the session cookie.

Richer documentation, by convention: a view function may carry an `openapi` attribute, a dict
merged into its operation (deep merge; "responses" and "parameters" are added to the defaults)::

    @bp.post("/things")
    def create_thing():
        \"\"\"Create a thing.\"\"\"
        ...

    create_thing.openapi = {
        "requestBody": {"content": {"application/json": {"schema": {...}}}},
        "responses": {"201": {"description": "Created"}},
    }

For a view serving several methods, key the dict by lower-case method instead:
`view.openapi = {"get": {...}, "put": {...}}`. When the extra responses name a 2xx code, the
default "200" response is dropped. `PAGING_PARAMETERS` documents ?page=&per_page=.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify

bp = Blueprint("openapi_api", __name__)

DOCUMENTED_PREFIX = "/api/v1/"
EXTRA_PATHS = ("/login", "/logout", "/healthz")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CONVERTER_TYPES = {"int": "integer", "float": "number"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

PAGING_PARAMETERS = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
]


def query_parameter(name: str, type_: str, enum: list | None = None) -> dict:
    """Return an optional query parameter's description, for a view's `openapi` attribute."""
    schema: dict[str, Any] = {"type": type_}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "required": False, "schema": schema}


def json_request_body(properties: dict, required: tuple | list = ()) -> dict:
    """Return a required JSON-object request body with these properties (those in `required`
    must be given), for a view's `openapi` attribute."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


ERROR_RESPONSES = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "422": {"$ref": "#/components/responses/Invalid"},
}


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


COMPONENTS = {
    "schemas": {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable machine code"},
                        "message": {"type": "string", "description": "In the user's language"},
                        "details": {"type": "object"},
                    },
                }
            },
        },
        "Page": {
            "type": "object",
            "required": ["items", "total", "page", "per_page"],
            "properties": {
                "items": {"type": "array", "items": {}},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
            },
        },
    },
    "responses": {
        "Unauthorized": _error_response("Not logged in, or a bad API token"),
        "Forbidden": _error_response("Not allowed"),
        "NotFound": _error_response("No such object"),
        "Invalid": _error_response("Invalid input"),
    },
    "securitySchemes": {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (bdp_...), created on /account",
        },
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
    },
}


def openapi_path(rule: str) -> tuple[str, list[dict]]:
    """Return the OpenAPI path of a Werkzeug rule and its path parameters."""
    parameters = []

    def replace(match: re.Match) -> str:
        name = match.group("name")
        converter = match.group("converter") or "string"
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": CONVERTER_TYPES.get(converter, "string")},
            }
        )
        return "{" + name + "}"

    return _ARGUMENT.sub(replace, rule), parameters


def _docstring(view) -> tuple[str, str]:
    doc = (getattr(view, "__doc__", None) or "").strip()
    if not doc:
        name = getattr(view, "__name__", "operation").replace("_", " ")
        return name[:1].upper() + name[1:], ""
    first, _, rest = doc.partition("\n")
    return first.strip(), " ".join(rest.split())


def _tag(endpoint: str) -> str:
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else "portal"
    return blueprint.removesuffix("_api") or blueprint


def _merge(target: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if key == "parameters" and isinstance(value, list):
            names = {(p.get("name"), p.get("in")) for p in value if isinstance(p, dict)}
            kept = [p for p in target.get(key, []) if (p.get("name"), p.get("in")) not in names]
            target[key] = kept + copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def _extra(view, method: str) -> dict:
    extra = getattr(view, "openapi", None)
    if not isinstance(extra, dict):
        return {}
    if extra and set(extra) <= set(HTTP_METHODS):
        return extra.get(method, {})
    return extra


def _operation(app: Flask, rule, method: str, parameters: list, public: bool) -> dict:
    view = app.view_functions.get(rule.endpoint)
    summary, description = _docstring(view)
    methods = sorted(m for m in rule.methods if m not in ("HEAD", "OPTIONS"))
    operation_id = rule.endpoint.replace(".", "_")
    if len(methods) > 1:
        operation_id += "_" + method
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [_tag(rule.endpoint)],
        "responses": {"200": {"description": "Success"}},
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = copy.deepcopy(parameters)
    if not public:
        operation["responses"].update(copy.deepcopy(ERROR_RESPONSES))
    if parameters:
        operation["responses"]["404"] = {"$ref": "#/components/responses/NotFound"}
    if method in ("post", "put", "patch"):
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    if public:
        operation["security"] = []
    extra = _extra(view, method)
    if any(str(code).startswith("2") for code in extra.get("responses", {})):
        operation["responses"].pop("200")
    return _merge(operation, extra)


def build_document(app: Flask) -> dict:
    """Return the OpenAPI 3.1 document of the app's API routes."""
    from portal.auth import PUBLIC_ENDPOINTS

    paths: dict[str, dict] = {}
    tags: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not (rule.rule.startswith(DOCUMENTED_PREFIX) or rule.rule in EXTRA_PATHS):
            continue
        if rule.endpoint not in app.view_functions:
            continue
        path, parameters = openapi_path(rule.rule)
        public = rule.endpoint in PUBLIC_ENDPOINTS
        item = paths.setdefault(path, {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = _operation(app, rule, method.lower(), parameters, public)
            item[method.lower()] = operation
            tags.update(operation.get("tags", []))
    components = copy.deepcopy(COMPONENTS)
    cookie = app.config.get("SESSION_COOKIE_NAME") or "session"
    components["securitySchemes"]["cookieAuth"]["name"] = cookie
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bank unified data portal API",
            "version": "1.0",
            "description": (
                "The portal's JSON API. Authenticate with a personal API token "
                "(Authorization: Bearer bdp_...) or the session cookie of a logged-in browser."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in sorted(tags)],
        "paths": paths,
        "components": components,
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    }


@bp.get("/openapi.json")
def openapi_document():
    """Return this OpenAPI document."""
    app = current_app._get_current_object()
    document = app.extensions.get("portal_openapi")
    if document is None:
        document = app.extensions["portal_openapi"] = build_document(app)
    return jsonify(document)
