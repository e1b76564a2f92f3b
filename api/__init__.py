"""Flask blueprints: the JSON API under /api/v1, the pages Flask serves, the health check."""

from __future__ import annotations

import importlib

from flask import Flask, jsonify

from portal.errors import PortalError

# (module in api/, blueprint attribute, URL prefix)
BLUEPRINTS = (
    ("health", "bp", None),
    ("vendor", "bp", None),
    ("auth", "bp", None),
    ("auth", "api", "/api/v1"),
    ("preferences", "bp", None),
    ("metrics", "bp", "/api/v1"),
    ("pivot", "bp", "/api/v1"),
    ("search", "bp", "/api/v1"),
    ("tiles", "bp", None),
    ("tiles", "api", "/api/v1"),
    ("home", "bp", "/api/v1"),
    ("reports", "bp", "/api/v1"),
    ("store", "bp", "/api/v1"),
    ("social", "bp", "/api/v1"),
    ("admin", "bp", "/api/v1"),
    ("openapi", "bp", "/api/v1"),
)


def register_api(server: Flask) -> None:
    """Register every blueprint and the JSON error handlers."""
    for module, attribute, prefix in BLUEPRINTS:
        blueprint = getattr(importlib.import_module(f"api.{module}"), attribute)
        server.register_blueprint(blueprint, url_prefix=prefix)

    @server.errorhandler(PortalError)
    def _portal_error(exc: PortalError):
        return jsonify({"error": exc.to_dict()}), exc.status
