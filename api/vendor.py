"""GET /vendor/<path>: Bootstrap CSS and the icon font, served locally (no CDN on an intranet)."""

from __future__ import annotations

from pathlib import Path

import flask_bootstrap
from flask import Blueprint, abort, send_from_directory

bp = Blueprint("vendor", __name__)
STATIC = Path(flask_bootstrap.__file__).resolve().parent / "static"
ALLOWED = ("bootstrap5/css/bootstrap.min.css", "bootstrap4/css/font/")
BOOTSTRAP_CSS = "/vendor/bootstrap5/css/bootstrap.min.css"
ICONS_CSS = "/vendor/bootstrap4/css/font/bootstrap-icons.min.css"


@bp.get("/vendor/<path:filename>")
def static_file(filename: str):
    """Serve one of the allowed vendored files, cached by browsers for a day."""
    if not filename.startswith(ALLOWED) or ".." in filename:
        abort(404)
    return send_from_directory(STATIC, filename, max_age=86400)
