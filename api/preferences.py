"""GET /lang/<code>: switch the interface language and return to the page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session
from flask_login import current_user

from portal.db import get_db
from portal.models import User

bp = Blueprint("preferences", __name__)
LANGUAGES = {"zh_CN", "en"}


@bp.get("/lang/<code>")
def set_language(code: str):
    """Keep the chosen language in the session (and the user's profile) and go back."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        db = get_db()
        with db.session() as s, s.begin():
            user = s.get(User, current_user.id)
            if user is not None:
                user.language = code
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"  # never redirect off-site
    return redirect(target)
