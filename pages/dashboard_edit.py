"""Edit a dashboard (/dashboards/<key>/edit): add charts, drag and resize them, save.

The draft lives in the browser (a dcc.Store holding the spec) until Save; every change is
validated by the service on the server, and Save checks the edit permission again.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from callbacks.dashboards import editor_children
from components.dashboard_charts import (
    EDIT_FILTER_PREFIX,
    EDIT_GRID_WRAP,
    EDIT_KEY,
    EDIT_SAVE,
    EDIT_SPEC,
    EDIT_STATUS,
    EDIT_TITLE,
    FORM_ADD,
    FORM_DIMENSION,
    FORM_FEEDBACK,
    FORM_METRIC,
    FORM_PERIOD,
    FORM_SERIES,
    FORM_TITLE,
    FORM_TOP,
    FORM_TYPE,
    filters_bar,
    period_options,
    type_labels,
)
from datasources.periods import NAMED_PERIODS
from portal.db import get_db
from portal.errors import PortalError
from portal.security import current_tables
from portal.services import dashboards as svc

dash.register_page(
    __name__,
    path_template="/dashboards/<key>/edit",
    title=lambda **_kw: _("Edit dashboard"),
    name="Edit dashboard",
)


def _field(label: str, control, width: int = 12) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="dash-form-label"), control], xs=12, md=width)


def _form(catalog, locale: str) -> dbc.Card:
    metrics = sorted(
        ({"label": m.name.get(locale), "value": m.id} for m in catalog.metrics.values()),
        key=lambda o: o["label"],
    )
    labels = type_labels()
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(_("Add a chart"), className="dash-panel-title"),
                dbc.Row(
                    [
                        _field(
                            _("Chart type"),
                            dcc.Dropdown(
                                id=FORM_TYPE,
                                options=[{"label": labels[t], "value": t} for t in svc.CHART_TYPES],
                                value="bar",
                                clearable=False,
                            ),
                            6,
                        ),
                        _field(
                            _("Metric"),
                            dcc.Dropdown(
                                id=FORM_METRIC,
                                options=metrics,
                                value="deposit_balance",
                                clearable=False,
                            ),
                            6,
                        ),
                        _field(
                            _("Dimension"),
                            dcc.Dropdown(
                                id=FORM_DIMENSION, options=[], value="branch", placeholder=_("None")
                            ),
                            6,
                        ),
                        _field(
                            _("Series (optional)"),
                            dcc.Dropdown(id=FORM_SERIES, options=[], placeholder=_("None")),
                            6,
                        ),
                        _field(
                            _("Period"),
                            dcc.Dropdown(
                                id=FORM_PERIOD,
                                options=[{"label": _("Automatic"), "value": ""}]
                                + period_options(include_default=False),
                                value="",
                                clearable=False,
                            ),
                            6,
                        ),
                        _field(
                            _("Top N (optional)"),
                            dbc.Input(id=FORM_TOP, type="number", min=1, max=svc.MAX_TOP, step=1),
                            6,
                        ),
                        _field(
                            _("Title (optional)"),
                            dbc.Input(
                                id=FORM_TITLE,
                                type="text",
                                maxLength=svc.MAX_TITLE,
                                placeholder=_("Made from the metric and dimension"),
                            ),
                        ),
                    ],
                    className="g-2",
                ),
                dbc.Button(
                    [html.I(className="bi bi-plus-lg me-1"), _("Add chart")],
                    id=FORM_ADD,
                    color="primary",
                    className="mt-3 w-100",
                    n_clicks=0,
                ),
                html.Div(id=FORM_FEEDBACK, className="mt-2"),
            ]
        ),
        className="dash-panel mb-3",
    )


def layout(key: str | None = None, **_kwargs):
    """Return the editor in the user's language."""
    locale = str(get_locale() or "zh_CN")
    service = current_app.extensions["metric_service"]
    catalog = service.catalog
    try:
        with get_db().session() as s:
            resource = svc.get_dashboard(s, current_user, key, "edit")
            title = svc.title_of(resource, locale)
            spec = svc.load_spec(resource, catalog)
        options = svc.filter_options(service.warehouse, current_tables(), locale)
    except PortalError as exc:
        return html.Div(
            [
                dbc.Alert(
                    [html.I(className="bi bi-exclamation-triangle me-2"), exc.message],
                    color="warning",
                ),
                dbc.Button(_("All dashboards"), href="/dashboards", color="light"),
            ],
            className="dash-page",
        )
    filters = dict(spec["filters"])
    if filters.get("period") and not isinstance(filters["period"], dict):
        filters["period"] = filters["period"] if filters["period"] in NAMED_PERIODS else ""
    return html.Div(
        [
            dcc.Store(id=EDIT_KEY, data=key),
            dcc.Store(id=EDIT_SPEC, data=spec),
            html.Div(
                [
                    html.Div(
                        [
                            html.A(
                                [
                                    html.I(className="bi bi-chevron-left"),
                                    _("Back to the dashboard"),
                                ],
                                href=f"/dashboards/{key}",
                                className="dash-back small",
                            ),
                            dbc.Input(
                                id=EDIT_TITLE,
                                value=title,
                                maxLength=svc.MAX_TITLE,
                                className="dash-title-input",
                                placeholder=_("Dashboard title"),
                            ),
                        ],
                        className="flex-grow-1 me-3",
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                [html.I(className="bi bi-eye me-1"), _("View")],
                                href=f"/dashboards/{key}",
                                color="light",
                                className="me-2",
                            ),
                            dbc.Button(
                                [html.I(className="bi bi-save me-1"), _("Save")],
                                id=EDIT_SAVE,
                                color="primary",
                                n_clicks=0,
                            ),
                        ],
                        className="dash-actions",
                    ),
                ],
                className="page-header dash-header",
            ),
            html.Div(id=EDIT_STATUS),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            _form(catalog, locale),
                            dbc.Card(
                                dbc.CardBody(
                                    [
                                        html.Div(
                                            _("Default filters"), className="dash-panel-title"
                                        ),
                                        html.Div(
                                            _("Viewers start with these and can change them."),
                                            className="text-muted small mb-2",
                                        ),
                                        filters_bar(filters, options, prefix=EDIT_FILTER_PREFIX),
                                    ]
                                ),
                                className="dash-panel dash-panel-filters",
                            ),
                        ],
                        xs=12,
                        lg=4,
                        xxl=3,
                    ),
                    dbc.Col(
                        [
                            html.Div(
                                _("Drag a chart by its title bar; resize it from its edges."),
                                className="text-muted small mb-2",
                            ),
                            html.Div(
                                editor_children(spec, spec["filters"], locale),
                                id=EDIT_GRID_WRAP,
                                className="dash-edit-canvas",
                            ),
                        ],
                        xs=12,
                        lg=8,
                        xxl=9,
                    ),
                ],
                className="g-3",
            ),
        ],
        className="dash-page dash-editor",
    )
