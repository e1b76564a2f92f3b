"""The reports registry API: list reports, register and change external report links."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from api.request_helpers import json_body, request_locale
from portal.db import get_db
from portal.errors import Invalid
from portal.services import reports

bp = Blueprint("reports_api", __name__)


@bp.get("/reports")
def list_reports():
    """List the reports the caller may see: ?q= (title search), ?type=, ?category=."""
    with get_db().session() as s:
        result = reports.list_reports(
            s,
            current_user,
            locale=request_locale(),
            q=request.args.get("q"),
            type=request.args.get("type"),
            category=request.args.get("category"),
        )
    return jsonify(result)


@bp.get("/reports/common")
def common_reports():
    """List the caller's common reports (favorites, most opened, then popular)."""
    limit = request.args.get("limit", "8")
    if not limit.isdigit() or not 1 <= int(limit) <= 50:
        raise Invalid(_("'limit' must be a whole number from 1 to 50"), code="bad_limit")
    with get_db().session() as s:
        items = reports.common_reports(s, current_user, int(limit), locale=request_locale())
    return jsonify({"reports": items})


@bp.post("/reports")
def add_report():
    """Register an external report link: {title_zh, title_en, url, platform, category}."""
    body = json_body()
    with get_db().session() as s, s.begin():
        report = reports.add_external_report(s, current_user, body, locale=request_locale())
    return jsonify(report), 201


@bp.get("/reports/<int:id>")
def get_report(id: int):  # noqa: A002 - the guard test samples <int:id>
    """Return one report the caller may see."""
    with get_db().session() as s:
        return jsonify(reports.get_report(s, current_user, id, locale=request_locale()))


@bp.patch("/reports/<int:id>")
def update_report(id: int):  # noqa: A002
    """Change an external report link (administrators and its owner)."""
    body = json_body()
    with get_db().session() as s, s.begin():
        report = reports.update_external_report(s, current_user, id, body, locale=request_locale())
    return jsonify(report)


@bp.delete("/reports/<int:id>")
def delete_report(id: int):  # noqa: A002
    """Remove an external report link (administrators and its owner)."""
    with get_db().session() as s, s.begin():
        reports.delete_external_report(s, current_user, id)
    return "", 204
