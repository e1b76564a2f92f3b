"""The favorite star shown on every resource page (SPEC §2.1 我的收藏)."""

from __future__ import annotations

from dash import html
from flask_babel import gettext as _

FAVORITE_STAR = "favorite-star"


def star_content(starred: bool) -> list:
    """Return the star icon and label for the given state."""
    icon = "bi-star-fill" if starred else "bi-star"
    label = _("Favorited") if starred else _("Add to favorites")
    return [html.I(className=f"bi {icon} me-1"), html.Span(label, className="star-label")]


def favorite_button(resource_id: int, starred: bool) -> html.Button:
    """Return a star toggle for the resource; callbacks/favorites.py saves each click."""
    return html.Button(
        star_content(starred),
        id={"type": FAVORITE_STAR, "resource": int(resource_id)},
        n_clicks=0,
        className="btn btn-sm favorite-star" + (" starred" if starred else ""),
        title=_("Favorited") if starred else _("Add to favorites"),
        **{"aria-pressed": "true" if starred else "false"},
    )
