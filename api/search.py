"""The unified search API: GET /api/v1/search?q=&type=&limit=&offset= (SPEC §3.1)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from api.request_helpers import int_arg, logged_in_user, request_locale
from portal.db import get_db
from portal.services.search import MAX_LIMIT, MAX_OFFSET, search

bp = Blueprint("search_api", __name__)


def _types() -> list[str]:
    """Return the `type` arguments: repeated (?type=a&type=b) and/or comma lists."""
    return [t.strip() for value in request.args.getlist("type") for t in value.split(",")]


@bp.get("/search")
def search_resources():
    """Search every resource the caller may find; return ranked results and facets."""
    user = logged_in_user()
    limit = int_arg(
        "limit",
        20,
        "bad_limit",
        _("The limit must be a whole number from 1 to %(n)d.", n=MAX_LIMIT),
    )
    offset = int_arg(
        "offset",
        0,
        "bad_offset",
        _("The offset must be a whole number from 0 to %(n)d.", n=MAX_OFFSET),
    )
    with get_db().session() as session:
        result = search(
            session,
            user,
            request.args.get("q", ""),
            types=_types() or None,
            limit=limit,
            offset=offset,
            locale=request_locale(),
            domain=request.args.get("domain"),
            owner=request.args.get("owner"),
        )
    return jsonify(result)
