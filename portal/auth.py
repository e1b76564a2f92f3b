"""Log-in sessions and the guard every request passes (SPEC §7.1, §7.2).

Flask-Login keeps the user id in the signed session cookie. `guard_request` runs before
every request: a few public endpoints (the log-in page and API, the health check, static
files) pass; everything else — every page, every API route and every Dash callback
(`/_dash-update-component`) — needs a logged-in, active user. Anonymous API and callback
requests get 401 JSON, pages a redirect to the log-in page. Optional single sign-on trusts a
header set by a reverse proxy (off unless PORTAL_SSO_HEADER is configured). On /api/v1
routes an `Authorization: Bearer <personal API token>` header (portal/services/api_tokens.py)
authenticates the request instead, without a session; a bad token gets 401 JSON.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import quote

from flask import Flask, current_app, g, jsonify, redirect, request
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select

from portal.db import get_db
from portal.models import User

log = logging.getLogger(__name__)
login_manager = LoginManager()

# Endpoints and path prefixes reachable without logging in.
PUBLIC_ENDPOINTS = {
    "auth.login_page",
    "auth.login_form",
    "auth_api.login",
    "health.healthz",
    "preferences.set_language",
    "vendor.static_file",
    # Target systems redeem sign-on tokens without a portal session; the token authenticates.
    "tiles_api.verify",
    "sso.demo_target",
}
PUBLIC_PREFIXES = ("/assets/", "/vendor/", "/_favicon.ico")
IDLE_TIMEOUT = timedelta(minutes=30)


def init_auth(app: Flask) -> None:
    """Bind Flask-Login and the request guard to the app."""
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", IDLE_TIMEOUT)
    app.config.setdefault("SESSION_REFRESH_EACH_REQUEST", True)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.before_request(guard_request)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        user = get_db().scoped.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None


def client_address() -> str | None:
    """Return the client's address (the proxy's X-Forwarded-For is trusted only if configured)."""
    if current_app.config.get("PORTAL_TRUST_PROXY") and request.headers.get("X-Forwarded-For"):
        return request.headers["X-Forwarded-For"].split(",")[0].strip()[:64]
    return request.remote_addr


def _is_public() -> bool:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return True
    return request.path.startswith(PUBLIC_PREFIXES)


def _wants_json() -> bool:
    return (
        request.path.startswith(("/api/", "/_dash-"))
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def _sso_user() -> bool | None:
    """Apply the trusted proxy header, when single sign-on is configured.

    Returns None when SSO is off or the header is absent; otherwise whether the request now
    belongs to an active user. The header is authoritative: a session of another user ends.
    """
    header = current_app.config.get("PORTAL_SSO_HEADER")
    if not header or not request.headers.get(header):
        return None
    username = request.headers[header].strip().lower()
    if current_user.is_authenticated and current_user.username == username:
        return True
    logout_user()
    user = get_db().scoped.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        return False
    login_user(user)
    return True


def _bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer` header on an /api/v1 route, else None.

    Personal API tokens authenticate only the JSON API, never pages or Dash callbacks.
    """
    header = request.headers.get("Authorization", "")
    if not request.path.startswith("/api/v1/") or header[:7].lower() != "bearer ":
        return None
    return header[7:].strip()


def _token_user(token: str):
    """Make the token's user the current user for this request only (no session cookie)."""
    from portal.services.api_tokens import authenticate_token

    db = get_db()
    with db.session() as s, s.begin():
        user = authenticate_token(s, token)
        user_id = user.id if user is not None else None
    if user_id is None:
        message = _("The API token is invalid, expired or revoked.")
        return jsonify({"error": {"code": "invalid_token", "message": message}}), 401
    g._login_user = g.user = db.scoped.get(User, user_id)
    g.token_auth = True
    return None


def guard_request():
    """Refuse anonymous access to everything but the public endpoints."""
    if _is_public():
        return None
    token = _bearer_token()
    if token is not None:
        return _token_user(token)
    sso = _sso_user()
    if sso or (sso is None and current_user.is_authenticated):
        g.user = current_user._get_current_object()
        return None
    if _wants_json():
        message = _("Please log in first.")
        return jsonify({"error": {"code": "unauthorized", "message": message}}), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else "/"
    return redirect(f"/login?next={quote(target, safe='/')}")
