"""Callbacks of the search page: run the query with its facets, and request access."""

from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import MATCH, Input, Output, State, ctx, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from callbacks.favorites import clicked_resource
from components.search_results import (
    PAGE_SIZE,
    REQUEST_ACCESS,
    SEARCH_IDS,
    domain_label,
    result_card,
    type_label,
)
from portal.db import get_db
from portal.errors import PortalError
from portal.models import Department, Resource, User
from portal.services.access_requests import request_access as ask
from portal.services.activity import favorite_ids, resource_url
from portal.services.search import search

log = logging.getLogger(__name__)


def _owner_labels(session, owners, english: bool) -> dict[str, str]:
    """Owner facet values are user names or department codes: show people and departments."""
    owners = [o for o in owners if o]
    if not owners:
        return {}
    labels = {
        d.code: (d.name_en if english else d.name_zh) or d.code
        for d in session.scalars(select(Department).where(Department.code.in_(owners)))
    }
    labels.update(
        dict(
            session.execute(
                select(User.username, User.display_name).where(User.username.in_(owners))
            ).all()
        )
    )
    return labels


def _options(counts: dict, label, chosen) -> list[dict]:
    options = [{"label": f"{label(k)} ({n})", "value": k} for k, n in counts.items()]
    for value in chosen or []:  # a chosen value stays selectable when it has no match now
        if value not in counts:
            options.append({"label": f"{label(value)} (0)", "value": value})
    return options


def run_search(q, types, domain, owner, page, new_query: bool = False):
    """Return results, summary, facet options, page count and page for the query.

    `new_query`: the text or a facet changed, so the results start again at page 1.
    """
    page = 1 if new_query or not isinstance(page, int) or page < 1 else page
    locale = str(get_locale() or "zh_CN")
    english = locale.startswith("en")
    empty = ([], "", [], [], [], 1, 1)
    if not (q or "").strip():
        hint = html.Div(
            [html.I(className="bi bi-search me-2"), _("Type what you are looking for.")],
            className="text-muted py-4 text-center",
        )
        return [hint], *empty[1:]
    try:
        with get_db().session() as s:
            found = search(
                s,
                current_user,
                q,
                types=types or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                locale=locale,
                domain=domain or None,
                owner=owner or None,
            )
            ids = [r["id"] for r in found["results"]]
            starred = favorite_ids(s, current_user, ids)
            urls = {
                r.id: resource_url(r)
                for r in s.scalars(select(Resource).where(Resource.id.in_(ids)))
            }
            facets = found["facets"]
            owners = _owner_labels(s, list(facets.get("owner", {})) + [owner], english)
    except PortalError as exc:
        return [dbc.Alert(exc.message, color="warning")], *empty[1:]
    except Exception:  # noqa: BLE001 - the page must say something useful, never a traceback
        log.exception("search failed for %r", q)
        error = dbc.Alert(_("Search is unavailable right now. Please try again."), color="danger")
        return [error], *empty[1:]
    cards = [
        result_card(r, urls.get(r["id"], "/"), r["id"] in starred, owners.get(r.get("owner")))
        for r in found["results"]
    ]
    if not cards:
        cards = [
            html.Div(
                [
                    html.I(className="bi bi-emoji-neutral me-2"),
                    _("Nothing found. Try fewer words."),
                ],
                className="text-muted py-4 text-center",
            )
        ]
    total = found["total"]
    summary = _("%(n)d results", n=total)
    pages = max(1, -(-total // PAGE_SIZE))
    return (
        cards,
        summary,
        _options(facets.get("type", {}), type_label, types),
        _options(facets.get("domain", {}), domain_label, [domain] if domain else []),
        _options(facets.get("owner", {}), lambda o: owners.get(o, o), [owner] if owner else []),
        pages,
        min(page, pages),
    )


def request_access(n_clicks, button_id):
    """Ask the resource's owner (or the security administrator) for view access."""
    resource_id = clicked_resource(n_clicks, button_id)
    try:
        with get_db().session() as s, s.begin():
            ask(s, current_user, resource_id, "view", "")
    except PortalError as exc:
        return [html.I(className="bi bi-exclamation-circle me-1"), exc.message], True
    return [html.I(className="bi bi-check2 me-1"), _("Access requested")], True


def _on_change(q, types, domain, owner, page):
    return run_search(q, types, domain, owner, page, ctx.triggered_id != SEARCH_IDS["page"])


def register(app: dash.Dash) -> None:
    app.callback(
        Output(SEARCH_IDS["results"], "children"),
        Output(SEARCH_IDS["summary"], "children"),
        Output(SEARCH_IDS["types"], "options"),
        Output(SEARCH_IDS["domain"], "options"),
        Output(SEARCH_IDS["owner"], "options"),
        Output(SEARCH_IDS["page"], "max_value"),
        Output(SEARCH_IDS["page"], "active_page"),
        Input(SEARCH_IDS["q"], "value"),
        Input(SEARCH_IDS["types"], "value"),
        Input(SEARCH_IDS["domain"], "value"),
        Input(SEARCH_IDS["owner"], "value"),
        Input(SEARCH_IDS["page"], "active_page"),
    )(_on_change)
    app.callback(
        Output({"type": REQUEST_ACCESS, "resource": MATCH}, "children"),
        Output({"type": REQUEST_ACCESS, "resource": MATCH}, "disabled"),
        Input({"type": REQUEST_ACCESS, "resource": MATCH}, "n_clicks"),
        State({"type": REQUEST_ACCESS, "resource": MATCH}, "id"),
        prevent_initial_call=True,
    )(request_access)
