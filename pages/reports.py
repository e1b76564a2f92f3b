"""The reports registry (/reports): saved pivots, dashboards and other platforms' reports."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.services.reports import can_add, category_options

dash.register_page(__name__, path="/reports", title=lambda **_kw: _("Reports"), name="Reports")


def type_options() -> list[dict]:
    return [
        {"value": "all", "label": _("All types")},
        {"value": "pivot", "label": _("Saved pivots")},
        {"value": "dashboard", "label": _("Dashboards")},
        {"value": "report", "label": _("External reports")},
    ]


def _link_modal(loc: str) -> dbc.Modal:
    def field(label, component):
        return html.Div([dbc.Label(label, className="pivot-label"), component])

    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Report link"), id="reports-modal-title")),
            dbc.ModalBody(
                [
                    field(_("Title (Chinese)"), dbc.Input(id="reports-f-title-zh", maxLength=200)),
                    field(_("Title (English)"), dbc.Input(id="reports-f-title-en", maxLength=200)),
                    field(
                        _("Address"),
                        dbc.Input(
                            id="reports-f-url",
                            type="url",
                            maxLength=1000,
                            placeholder="https://",
                        ),
                    ),
                    field(
                        _("Platform"),
                        dbc.Input(
                            id="reports-f-platform",
                            maxLength=100,
                            placeholder=_("e.g. regulatory reporting platform"),
                        ),
                    ),
                    field(
                        _("Category"),
                        dcc.Dropdown(
                            id="reports-f-category",
                            options=category_options(loc),
                            value="management",
                            clearable=False,
                        ),
                    ),
                    field(
                        _("Description"),
                        dbc.Textarea(id="reports-f-description", maxLength=2000, rows=3),
                    ),
                    html.Div(id="reports-modal-feedback", className="mt-2"),
                ]
            ),
            dbc.ModalFooter(dbc.Button(_("Save"), id="reports-save", color="primary")),
        ],
        id="reports-modal",
        is_open=False,
    )


def layout(**_kwargs):
    """Return the reports registry in the user's language."""
    loc = str(get_locale() or "zh_CN")
    add = (
        dbc.Button(
            [html.I(className="bi bi-plus-lg me-1"), _("Add report link")],
            id="reports-add",
            color="primary",
            size="sm",
        )
        if can_add(current_user)
        else html.Span(id="reports-add")
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.H4(_("Reports"), className="page-title mb-0"),
                            html.Div(
                                _(
                                    "Saved pivots, dashboards and reports from the bank's "
                                    "other platforms, in one list."
                                ),
                                className="text-muted small",
                            ),
                        ]
                    ),
                    add,
                ],
                className="page-header pivot-header",
            ),
            html.Div(
                [
                    dbc.Input(
                        id="reports-q",
                        type="search",
                        placeholder=_("Search report titles"),
                        debounce=0.3,
                        maxLength=100,
                    ),
                    dcc.Dropdown(
                        id="reports-type", options=type_options(), value="all", clearable=False
                    ),
                    dcc.Dropdown(
                        id="reports-category",
                        options=[{"value": "all", "label": _("All categories")}]
                        + category_options(loc),
                        value="all",
                        clearable=False,
                    ),
                    html.Span(id="reports-count", className="text-muted small"),
                ],
                className="reports-filters",
            ),
            html.Div(id="reports-feedback"),
            dcc.Loading(html.Div(id="reports-list"), type="default", color="#1f5fa8"),
            dcc.Store(id="reports-refresh", data=0),
            dcc.Store(id="reports-edit-id"),
            _link_modal(loc),
        ],
        className="reports-page",
    )
