"""Flask blueprints: the JSON API under /api/v1 and the health check."""

from __future__ import annotations

from flask import Flask, jsonify

from portal.errors import PortalError


def register_api(server: Flask) -> None:
    """Register every blueprint and the JSON error handlers."""
    from api.auth import api as auth_api_bp
    from api.auth import bp as auth_bp
    from api.health import bp as health_bp
    from api.metrics import bp as metrics_bp
    from api.pivot import bp as pivot_bp
    from api.preferences import bp as preferences_bp
    from api.search import bp as search_bp
    from api.tiles import api as tiles_api_bp
    from api.tiles import bp as sso_bp
    from api.vendor import bp as vendor_bp

    server.register_blueprint(health_bp)
    server.register_blueprint(vendor_bp)
    server.register_blueprint(auth_bp)
    server.register_blueprint(auth_api_bp, url_prefix="/api/v1")
    server.register_blueprint(preferences_bp)
    server.register_blueprint(metrics_bp, url_prefix="/api/v1")
    server.register_blueprint(pivot_bp, url_prefix="/api/v1")
    server.register_blueprint(search_bp, url_prefix="/api/v1")
    server.register_blueprint(sso_bp)
    server.register_blueprint(tiles_api_bp, url_prefix="/api/v1")

    @server.errorhandler(PortalError)
    def _portal_error(exc: PortalError):
        return jsonify({"error": exc.to_dict()}), exc.status
