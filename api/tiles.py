"""Quick entry tiles and single-sign-on launch (SPEC §2.1, §7.3).

GET  /sso/launch/<key>       the user's browser opens an external system (token in the URL)
POST /api/v1/sso/verify      the target system redeems the token: {"token", "audience"}
GET  /sso/demo/<key>         a stand-in target system for the demo data (verifies like a real one)
GET  /api/v1/tiles           the tiles the user sees; PUT /api/v1/tiles/preferences to reorder/hide
POST /api/v1/tiles           create or update a tile (administrators); DELETE /api/v1/tiles/<key>
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from flask_login import current_user

from api.request_helpers import json_body, request_locale
from portal.auth import client_address
from portal.db import get_db
from portal.errors import PortalError
from portal.services.activity import record_view
from portal.services.audit import record_event
from portal.services.sso import issue_token, verify_token
from portal.services.tiles import (
    delete_tile,
    save_preferences,
    save_tile,
    tile_for,
    visible_tiles,
)

bp = Blueprint("sso", __name__, template_folder="templates")
api = Blueprint("tiles_api", __name__)

TOKEN_PARAM = "portal_token"


def with_token(url: str, token: str) -> str:
    """Return `url` with the launch token added to its query string."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAM]
    query.append((TOKEN_PARAM, token))
    return urlunsplit(parts._replace(query=urlencode(query)))


@bp.get("/sso/launch/<key>")
def launch(key: str):
    """Open a tile: external SSO tiles get a short-lived token bound to the user and target."""
    with get_db().session() as s, s.begin():
        tile = tile_for(s, current_user, key)
        spec = tile.spec or {}
        record_view(s, current_user, tile)
        url = spec.get("url") or "/"
        if not spec.get("sso"):
            return redirect(url)
        token = issue_token(current_app.config["SECRET_KEY"], current_user, tile.key)
        record_event(
            s,
            event_type="sso_launch",
            actor=current_user,
            client_addr=client_address(),
            object_type="tile",
            object_id=tile.key,
        )
    return redirect(with_token(url, token))


def _redeem(token, audience) -> dict:
    """Verify a token in its own transaction; a refusal is audited too."""
    with get_db().session() as s:
        try:
            identity = verify_token(s, current_app.config["SECRET_KEY"], token, audience)
        except PortalError:
            s.commit()  # keep the audit record of the refusal
            raise
        s.commit()
    return identity


@api.post("/sso/verify")
def verify():
    """Redeem a launch token for a target system: {"token", "audience"} -> the user."""
    body = json_body()
    return jsonify({"user": _redeem(body.get("token"), body.get("audience"))})


@bp.get("/sso/demo/<key>")
def demo_target(key: str):
    """A stand-in external system: it verifies the token it was launched with, like a real one."""
    try:
        identity, error = _redeem(request.args.get(TOKEN_PARAM), key[:200]), None
    except PortalError as exc:
        identity, error = None, exc.message
    html = render_template(
        "sso_demo.html", key=key, identity=identity, error=error, locale=request_locale()
    )
    return html, 200 if identity else 401


@api.get("/tiles")
def list_tiles():
    """List the quick-entry tiles the user sees (?hidden=1 includes the ones they hid)."""
    include_hidden = request.args.get("hidden") in ("1", "true")
    with get_db().session() as s:
        tiles = visible_tiles(s, current_user, request_locale(), include_hidden=include_hidden)
    return jsonify({"tiles": tiles})


@api.put("/tiles/preferences")
def put_preferences():
    """Save the user's own tile order and hidden tiles: {"order": [keys], "hidden": [keys]}."""
    body = json_body()
    with get_db().session() as s, s.begin():
        value = save_preferences(s, current_user, body.get("order", []), body.get("hidden", []))
    return jsonify(value)


@api.post("/tiles")
def post_tile():
    """Create or update a tile (system administrators)."""
    body = json_body()
    with get_db().session() as s, s.begin():
        tile = save_tile(s, current_user, body, client_addr=client_address())
        result = {"id": tile.id, "key": tile.key, "spec": tile.spec}
    return jsonify(result)


@api.delete("/tiles/<key>")
def remove_tile(key: str):
    """Delete a tile (system administrators)."""
    with get_db().session() as s, s.begin():
        delete_tile(s, current_user, key, client_addr=client_address())
    return jsonify({"ok": True})
