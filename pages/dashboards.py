"""Self-service dashboards (/dashboards): the ones I own or may view; create, copy, delete."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.dashboard_charts import (
    LIST_CONTAINER,
    LIST_CREATE,
    LIST_CREATE_FEEDBACK,
    LIST_CREATE_TITLE,
    LIST_DELETE_CONFIRM,
    LIST_DELETE_KEY,
    LIST_DELETE_MODAL,
    LIST_DELETE_NAME,
    LIST_NAV,
    LIST_NEW,
    LIST_NEW_MODAL,
    LIST_STATUS,
    dashboard_cards,
)
from portal.db import get_db
from portal.services.dashboards import MAX_TITLE, list_dashboards

dash.register_page(
    __name__, path="/dashboards", title=lambda **_kw: _("Dashboards"), name="Dashboards"
)


def layout(**_kwargs):
    """Return the list of dashboards in the user's language."""
    locale = str(get_locale() or "zh_CN")
    with get_db().session() as s:
        items = list_dashboards(s, current_user, locale)
    return html.Div(
        [
            dcc.Location(id=LIST_NAV, refresh="callback-nav"),
            dcc.Store(id=LIST_DELETE_KEY),
            html.Div(
                [
                    html.Div(
                        [
                            html.H4(_("Self-service dashboards"), className="page-title mb-0"),
                            html.Div(
                                _("Compose charts from the metric catalog, filter and share them."),
                                className="text-muted small",
                            ),
                        ]
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-plus-lg me-1"), _("New dashboard")],
                        id=LIST_NEW,
                        color="primary",
                        n_clicks=0,
                    ),
                ],
                className="page-header dash-header",
            ),
            html.Div(id=LIST_STATUS),
            dbc.Row(dashboard_cards(items, locale), id=LIST_CONTAINER, className="g-3"),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle(_("New dashboard"))),
                    dbc.ModalBody(
                        [
                            dbc.Label(_("Title"), html_for=LIST_CREATE_TITLE),
                            dbc.Input(
                                id=LIST_CREATE_TITLE,
                                maxLength=MAX_TITLE,
                                placeholder=_("For example: Deposits by branch"),
                            ),
                            html.Div(id=LIST_CREATE_FEEDBACK, className="mt-2"),
                        ]
                    ),
                    dbc.ModalFooter(
                        dbc.Button(_("Create"), id=LIST_CREATE, color="primary", n_clicks=0)
                    ),
                ],
                id=LIST_NEW_MODAL,
                is_open=False,
            ),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle(_("Delete dashboard"))),
                    dbc.ModalBody(html.Div(id=LIST_DELETE_NAME)),
                    dbc.ModalFooter(
                        dbc.Button(_("Delete"), id=LIST_DELETE_CONFIRM, color="danger", n_clicks=0)
                    ),
                ],
                id=LIST_DELETE_MODAL,
                is_open=False,
            ),
        ],
        className="dash-page",
    )
