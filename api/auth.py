"""Log in and out: the log-in page and form, the JSON auth API and GET /api/v1/me."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from api.request_helpers import json_body, request_locale
from portal.auth import client_address
from portal.db import get_db
from portal.errors import Invalid, PortalError
from portal.services.accounts import authenticate
from portal.services.audit import record_event
from portal.services.throttle import LoginThrottle

bp = Blueprint("auth", __name__, template_folder="templates")
api = Blueprint("auth_api", __name__)


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after logging in, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def log_in(username: str, password: str):
    """Check the credentials (throttled per address and per account) and start a session."""
    from portal.extensions import cache

    address = client_address()
    throttle = LoginThrottle(cache)
    throttle.check(address)
    if (
        not isinstance(username, str)
        or not isinstance(password, str)
        or not username
        or not password
    ):
        throttle.record_failure(address)
        raise Invalid(_("Enter your user name and password."), code="missing_credentials")
    db = get_db()
    with db.session() as s:
        try:
            user = authenticate(s, username[:64], password[:256], address)
        except PortalError:
            throttle.record_failure(address)
            raise
    chosen = session.get("lang")  # a language picked on the log-in page survives logging in
    session.clear()
    session.permanent = True
    login_user(user)
    lang = user.language if user.language in ("zh_CN", "en") else chosen
    if lang in ("zh_CN", "en"):
        session["lang"] = lang
    return user


def log_out() -> None:
    if current_user.is_authenticated:
        db = get_db()
        with db.session() as s, s.begin():
            record_event(
                s,
                event_type="logout",
                actor_id=current_user.id,
                actor_name=current_user.username,
                client_addr=client_address(),
                object_type="user",
                object_id=current_user.id,
            )
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def user_json(user) -> dict:
    locale = request_locale()
    english = locale.startswith("en")
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "employee_no": user.employee_no,
        "branch_id": user.branch_id,
        "branch_name": user.branch.name_en if english else user.branch.name_zh,
        "department": user.department_code,
        "roles": sorted(user.role_codes),
        "language": user.language or locale,
    }


@bp.get("/login")
def login_page():
    """Show the log-in form (or go home when already logged in)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return render_template(
        "login.html",
        error=None,
        username="",
        next=_safe_next(request.args.get("next")),
        locale=request_locale(),
    )


@bp.post("/login")
def login_form():
    """Log in from the HTML form; show the error on the same page when it fails."""
    target = _safe_next(request.form.get("next"))
    username = request.form.get("username", "")
    try:
        log_in(username, request.form.get("password", ""))
    except PortalError as exc:
        html = render_template(
            "login.html",
            error=exc.message,
            username=username[:64],
            next=target,
            locale=request_locale(),
        )
        return html, exc.status
    return redirect(target)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """End the session and return to the log-in page."""
    log_out()
    return redirect("/login")


@api.post("/auth/login")
def login():
    """Log in with {"username", "password"}; returns the user."""
    body = json_body()
    user = log_in(body.get("username"), body.get("password"))
    return jsonify({"user": user_json(user)})


@api.post("/auth/logout")
def logout_api():
    log_out()
    return jsonify({"ok": True})


@api.get("/me")
def me():
    """Return the logged-in user."""
    return jsonify({"user": user_json(current_user)})
