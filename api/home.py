"""The home page's API: the user's layout document, role defaults, and announcements."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from api.request_helpers import json_body, request_locale
from portal.auth import client_address
from portal.db import get_db
from portal.errors import Invalid
from portal.services import home_layout as layouts
from portal.services.announcements import current_for, publish, withdraw

bp = Blueprint("home_api", __name__)


def _body():
    body = request.get_json(silent=True)
    if body is None:
        raise Invalid(_("The request body must be a JSON object"), code="invalid_json")
    return body


@bp.get("/home/layout")
def get_layout():
    """Return the user's home layout: {"layout", "source": "user"|"default", "notice"}."""
    with get_db().session() as s:
        layout, source, notice = layouts.load_layout(s, current_user)
    return jsonify({"layout": layout, "source": source, "notice": notice})


@bp.put("/home/layout")
def put_layout():
    """Save the user's home layout (a versioned document, validated)."""
    body = _body()
    with get_db().session() as s, s.begin():
        layout = layouts.save_layout(s, current_user, body)
    return jsonify({"layout": layout, "source": "user"})


@bp.delete("/home/layout")
def delete_layout():
    """Restore the default layout: forget the user's own."""
    with get_db().session() as s, s.begin():
        layout = layouts.reset_layout(s, current_user)
    return jsonify({"layout": layout, "source": "default"})


@bp.put("/home/layout/roles/<role>")
def put_role_layout(role: str):
    """Set a role's default home layout (system administrators)."""
    body = _body()
    with get_db().session() as s, s.begin():
        layout = layouts.save_role_default(s, current_user, role, body, client_address())
    return jsonify({"role": role, "layout": layout})


def _announcement_json(item: dict) -> dict:
    return {
        **item,
        "starts_at": item["starts_at"].isoformat() if item["starts_at"] else None,
        "ends_at": item["ends_at"].isoformat() if item["ends_at"] else None,
    }


@bp.get("/announcements")
def list_announcements():
    """List the announcements shown to the user now."""
    with get_db().session() as s:
        items = current_for(s, current_user, request_locale())
    return jsonify({"items": [_announcement_json(a) for a in items]})


@bp.post("/announcements")
def post_announcement():
    """Publish an announcement (system administrators)."""
    body = json_body()
    with get_db().session() as s, s.begin():
        item = publish(s, current_user, body, client_address())
        result = {"id": item.id, "title_zh": item.title_zh, "level": item.level}
    return jsonify(result), 201


@bp.delete("/announcements/<int:announcement_id>")
def delete_announcement(announcement_id: int):
    """Withdraw an announcement now (system administrators)."""
    with get_db().session() as s, s.begin():
        withdraw(s, current_user, announcement_id)
    return jsonify({"ok": True})
