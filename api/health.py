"""GET /healthz: liveness plus warehouse reachability, for load balancers and monitoring."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report whether the web process and the warehouse answer."""
    warehouse_ok = current_app.extensions["warehouse"].ping()
    status = "ok" if warehouse_ok else "degraded"
    return jsonify({"status": status, "warehouse": warehouse_ok}), 200 if warehouse_ok else 503
