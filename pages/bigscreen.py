"""The big screen (大屏, SPEC §2.2): a slide set full-screen for wall displays, and the set list.

`/bigscreen` lists the sets the user may open; `/bigscreen/<set>` shows one: dark theme, very
large type, no navigation chrome (the shell leaves its navbar out for these paths), the
set's slides rotating every `interval_s`, data refreshed every `refresh_s`, a clock, and a
freshness line that says when the figures are stale because the portal cannot be reached —
the last figures stay on screen. On a phone the same set is a vertical list with details.

The frame is built here; callbacks/bigscreen.py fills the slides, assets/carousel.js runs the
clock, the rotation and the connection check in the browser.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.carousel import (
    BS_CLOCK,
    BS_DOT,
    BS_ERROR,
    BS_HEARTBEAT,
    BS_HEARTBEAT_S,
    BS_KEY,
    BS_LAST,
    BS_REFRESH,
    BS_SECOND,
    BS_SLIDE,
    BS_STAGE,
    BS_STATUS,
    BS_TEXTS,
)
from portal.db import get_db
from portal.errors import PortalError
from portal.services.activity import record_view
from portal.services.slides import get_set, list_sets

dash.register_page(
    __name__,
    path_template="/bigscreen/<set_key>",
    title=lambda **_kw: _("Big screen"),
    name="Big screen",
)


def _message_page(message: str, color: str = "warning") -> html.Div:
    return html.Div(
        html.Div(
            [
                html.Div(
                    [html.I(className="bi bi-exclamation-triangle me-2"), message],
                    className=f"bigscreen-message text-{color}",
                ),
                html.A(
                    [html.I(className="bi bi-arrow-left me-1"), _("All screens")],
                    href="/bigscreen",
                    className="btn btn-outline-light mt-4",
                ),
            ],
            className="bigscreen-center",
        ),
        className="bigscreen",
    )


def set_list(locale: str) -> html.Div:
    """Return the list of sets the user may open (the index page, /bigscreen)."""
    with get_db().session() as s:
        sets = list_sets(s, current_user, locale)
    catalog = current_app.extensions["metric_catalog"]
    cards = [
        dbc.Col(
            html.A(
                [
                    html.Div(
                        [html.I(className="bi bi-display me-2"), item["title"]],
                        className="bigscreen-card-title",
                    ),
                    html.Div(item["description"], className="bigscreen-card-text"),
                    html.Div(
                        " · ".join(
                            catalog.metric(sl["metric"]).name.get(locale)
                            for sl in item["slides"][:5]
                        )
                        + (" …" if len(item["slides"]) > 5 else ""),
                        className="bigscreen-card-metrics",
                    ),
                    html.Div(
                        _(
                            "%(n)d slides · every %(s)d s",
                            n=len(item["slides"]),
                            s=item["interval_s"],
                        ),
                        className="bigscreen-card-meta",
                    ),
                ],
                href=f"/bigscreen/{item['key']}",
                className="bigscreen-card",
                id={"type": "bigscreen-set-link", "key": item["key"]},
            ),
            xs=12,
            md=6,
            xl=4,
            className="mb-3",
        )
        for item in sets
    ]
    body = (
        dbc.Row(cards, className="g-3")
        if cards
        else html.Div(_("No big screen is shared with you yet."), className="bigscreen-message")
    )
    return html.Div(
        html.Div(
            [
                html.Div(
                    [
                        html.H1(_("Big screens"), className="bigscreen-list-title"),
                        html.A(
                            [html.I(className="bi bi-house me-1"), _("Home")],
                            href="/",
                            className="btn btn-outline-light btn-sm",
                        ),
                    ],
                    className="bigscreen-list-header",
                ),
                html.P(
                    _("Open a set full-screen on a wall display (F11); it refreshes by itself."),
                    className="bigscreen-list-hint",
                ),
                body,
            ],
            className="bigscreen-list",
        ),
        className="bigscreen bigscreen-index",
    )


def placeholder_slides(slides: list[dict], locale: str) -> list:
    """Return the stage's first content: one empty slide per metric, named."""
    catalog = current_app.extensions["metric_catalog"]
    return [
        html.Div(
            html.Div(
                [
                    html.Div(catalog.metric(sl["metric"]).name.get(locale), className="bs-name"),
                    html.Div(className="bs-loading"),
                ],
                className="bs-slide-inner",
            ),
            id={"type": BS_SLIDE, "index": i},
            className="bigscreen-slide" + (" active" if i == 0 else ""),
        )
        for i, sl in enumerate(slides)
    ]


def layout(set_key: str | None = None, **_kwargs):
    """Return the big screen of one set (or the list of sets) in the user's language."""
    locale = str(get_locale() or "zh_CN")
    if not set_key:
        return set_list(locale)
    set_key = str(set_key)
    try:
        with get_db().session() as s, s.begin():
            found = get_set(s, current_user, set_key, locale)
            record_view(s, current_user, found["id"])
    except PortalError as exc:
        return _message_page(exc.message)
    if not found["slides"]:
        return _message_page(_("This slide set has no slides."))
    texts = {
        "live": _("Data as of %(time)s", time="%(time)s"),
        "stale": _("Data as of %(time)s · not refreshed", time="%(time)s"),
        "lost": _("Data as of %(time)s · connection lost", time="%(time)s"),
    }
    return html.Div(
        [
            html.Header(
                [
                    html.Div(
                        [
                            html.A(
                                html.I(className="bi bi-bank2"),
                                href="/bigscreen",
                                className="bigscreen-logo",
                                title=_("All screens"),
                            ),
                            html.Div(
                                [
                                    html.H1(found["title"], className="bigscreen-title"),
                                    html.Div(_("Bank Data Portal"), className="bigscreen-brand"),
                                ]
                            ),
                        ],
                        className="bigscreen-heading",
                    ),
                    html.Div(
                        [
                            html.Div(id=BS_CLOCK, className="bigscreen-clock"),
                            html.Div(id=BS_STATUS, className="bigscreen-status"),
                        ],
                        className="bigscreen-meta",
                    ),
                ],
                className="bigscreen-header",
            ),
            html.Div(id=BS_ERROR, className="bigscreen-error"),
            html.Main(
                placeholder_slides(found["slides"], locale),
                id=BS_STAGE,
                className="bigscreen-stage",
            ),
            html.Footer(
                [
                    html.Div(
                        [
                            html.Span(
                                id={"type": BS_DOT, "index": i},
                                className="bigscreen-dot" + (" active" if i == 0 else ""),
                            )
                            for i in range(len(found["slides"]))
                        ],
                        className="bigscreen-dots",
                    ),
                ],
                className="bigscreen-footer",
            ),
            dcc.Store(id=BS_KEY, data=found["key"]),
            dcc.Store(
                id=BS_LAST,
                data={
                    "at": None,
                    "refresh_s": found["refresh_s"],
                    "interval_s": found["interval_s"],
                },
            ),
            dcc.Store(id=BS_TEXTS, data=texts),
            dcc.Interval(id=BS_REFRESH, interval=found["refresh_s"] * 1000),
            dcc.Interval(id=BS_SECOND, interval=1000),
            dcc.Interval(id=BS_HEARTBEAT, interval=BS_HEARTBEAT_S * 1000),
        ],
        className="bigscreen",
        lang="en" if locale.startswith("en") else "zh-CN",
        **{"data-set": found["key"], "data-interval": str(found["interval_s"])},
    )


def index_layout(**_kwargs):
    """Return the list of big screens the user may open (/bigscreen)."""
    return set_list(str(get_locale() or "zh_CN"))


dash.register_page(
    __name__ + "_index",
    path="/bigscreen",
    title=lambda **_kw: _("Big screens"),
    name="Big screens",
    layout=index_layout,
)
