"""The favorite star: each click toggles the resource in the user's favorites, on the server."""

from __future__ import annotations

import dash
from dash import MATCH, Input, Output, State
from flask_babel import gettext as _
from flask_login import current_user

from components.favorite import FAVORITE_STAR, star_content
from portal.db import get_db
from portal.errors import PortalError
from portal.services.activity import is_favorite, set_favorite


def clicked_resource(n_clicks, button_id) -> int:
    """Return the resource id of a clicked `{"type": ..., "resource": id}` button (else no update)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    resource_id = button_id.get("resource") if isinstance(button_id, dict) else None
    if not isinstance(resource_id, int):
        raise dash.exceptions.PreventUpdate
    return resource_id


def toggle_favorite(n_clicks, button_id, class_name):
    """Flip the star of `button_id["resource"]`; returns (children, className, title)."""
    resource_id = clicked_resource(n_clicks, button_id)
    try:
        with get_db().session() as s, s.begin():
            starred = set_favorite(
                s, current_user, resource_id, not is_favorite(s, current_user, resource_id)
            )
    except PortalError as exc:
        return star_content(False), "btn btn-sm favorite-star error", exc.message
    title = _("Favorited") if starred else _("Add to favorites")
    return (
        star_content(starred),
        "btn btn-sm favorite-star" + (" starred" if starred else ""),
        title,
    )


def register(app: dash.Dash) -> None:
    app.callback(
        Output({"type": FAVORITE_STAR, "resource": MATCH}, "children"),
        Output({"type": FAVORITE_STAR, "resource": MATCH}, "className"),
        Output({"type": FAVORITE_STAR, "resource": MATCH}, "title"),
        Input({"type": FAVORITE_STAR, "resource": MATCH}, "n_clicks"),
        State({"type": FAVORITE_STAR, "resource": MATCH}, "id"),
        State({"type": FAVORITE_STAR, "resource": MATCH}, "className"),
        prevent_initial_call=True,
    )(toggle_favorite)
