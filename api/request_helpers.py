"""What the JSON API blueprints read from a request: the caller, the locale, the JSON body
and whole-number query arguments. Bad input raises `Invalid` (422 JSON, api/__init__.py).
"""

from __future__ import annotations

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import Invalid, Unauthorized


def request_locale() -> str:
    """Return the caller's interface language (zh_CN unless chosen otherwise)."""
    return str(get_locale() or "zh_CN")


def logged_in_user():
    """Return the logged-in user (the object, not the proxy); 401 for an anonymous caller."""
    if not current_user or not current_user.is_authenticated:
        raise Unauthorized(_("Please log in first."))
    return current_user._get_current_object()


def json_body() -> dict:
    """Return the request's JSON object; 422 `invalid_json` for anything else."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid(_("The request body must be a JSON object"), code="invalid_json")
    return body


def optional_json_body() -> dict:
    """Return the request's JSON object, {} without a body; 422 `invalid_json` for anything
    else (a body that is not a JSON object)."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def int_arg(name: str, default, code: str | None = None, message: str | None = None):
    """Return query argument `name` as an int (`default` when missing or empty); 422 with
    `code` (default `bad_<name>`) and `message` when it is not a whole number."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise Invalid(
            message or _("%(name)s must be a whole number.", name=name),
            code=code or f"bad_{name}",
        ) from None
