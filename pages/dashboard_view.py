"""A saved dashboard (/dashboards/<key>): the filters bar and a grid of charts.

Each chart's body is filled by its own callback (callbacks/dashboards.py, pattern-matching
ids), so charts load in parallel and one failing chart shows its own error.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.dashboard_charts import (
    CHART_BODY,
    SHARE_OPEN,
    VIEW_ALERT,
    VIEW_DUPLICATE,
    VIEW_KEY,
    VIEW_NAV,
    chart_card,
    filters_bar,
    share_modal,
    type_labels,
)
from components.favorite import favorite_button
from components.grid import widget_grid
from portal.db import get_db
from portal.errors import PortalError
from portal.security import current_tables
from portal.services import dashboards as svc
from portal.services.activity import is_favorite, record_view

dash.register_page(
    __name__,
    path_template="/dashboards/<key>",
    title=lambda **_kw: _("Dashboard"),
    name="Dashboard",
)

EDIT_TEMPLATE = "/dashboards/<key>/edit"
VIEW_GRID = "dash-view-grid"


def _error_page(message: str) -> html.Div:
    return html.Div(
        [
            dbc.Alert(
                [html.I(className="bi bi-exclamation-triangle me-2"), message], color="warning"
            ),
            dbc.Button(
                [html.I(className="bi bi-arrow-left me-1"), _("All dashboards")],
                href="/dashboards",
                color="light",
            ),
        ],
        className="dash-page",
    )


def layout(key: str | None = None, **_kwargs):
    """Return the dashboard page in the user's language."""
    if isinstance(key, str) and key.endswith("/edit"):
        # "/dashboards/<key>" also matches ".../edit" when the edit page registered later.
        for page in dash.page_registry.values():
            if page.get("path_template") == EDIT_TEMPLATE:
                return page["layout"](key=key[: -len("/edit")])
    locale = str(get_locale() or "zh_CN")
    service = current_app.extensions["metric_service"]
    catalog = service.catalog
    try:
        with get_db().session() as s, s.begin():
            resource = svc.get_dashboard(s, current_user, key, "view")
            title = svc.title_of(resource, locale)
            description = resource.description or ""
            editable = svc.can_edit(s, current_user, resource)
            manager = svc.can_manage(s, current_user, resource)
            star = favorite_button(resource.id, is_favorite(s, current_user, resource.id))
            record_view(s, current_user, resource)
            spec = svc.load_spec(resource, catalog)
        options = svc.filter_options(service.warehouse, current_tables(), locale)
    except PortalError as exc:
        return _error_page(exc.message)
    labels = type_labels()
    items = []
    for chart in spec["charts"]:
        body_id = {"type": CHART_BODY, "dashboard": key, "chart": chart["id"]}
        items.append(
            (
                chart["id"],
                chart_card(
                    body_id,
                    svc.chart_title(chart, catalog, locale),
                    chart["type"],
                    tools=[html.Span(labels[chart["type"]], className="dash-chart-kind")],
                ),
            )
        )
    actions = []
    if editable:
        actions.append(
            dbc.Button(
                [html.I(className="bi bi-pencil me-1"), _("Edit")],
                href=f"/dashboards/{key}/edit",
                color="primary",
                size="sm",
                id="dash-view-edit",
                className="me-2",
            )
        )
    actions.append(
        dbc.Button(
            [html.I(className="bi bi-copy me-1"), _("Duplicate")],
            id=VIEW_DUPLICATE,
            color="light",
            size="sm",
            className="me-2",
            n_clicks=0,
        )
    )
    if manager:
        actions.append(
            dbc.Button(
                [html.I(className="bi bi-share me-1"), _("Share")],
                id=SHARE_OPEN,
                color="light",
                size="sm",
                className="me-2",
                n_clicks=0,
            )
        )
    actions.append(star)
    body = (
        widget_grid(VIEW_GRID, items, {c["id"]: c["layout"] for c in spec["charts"]}, False)
        if items
        else html.Div(
            [
                html.I(className="bi bi-bar-chart dash-empty-icon"),
                html.Div(_("This dashboard has no charts yet."), className="mt-2"),
            ],
            className="dash-empty",
        )
    )
    children = [
        dcc.Store(id=VIEW_KEY, data=key),
        dcc.Location(id=VIEW_NAV, refresh="callback-nav"),
        html.Div(
            [
                html.Div(
                    [
                        html.A(
                            [html.I(className="bi bi-chevron-left"), _("Dashboards")],
                            href="/dashboards",
                            className="dash-back small",
                        ),
                        html.H4(title, className="page-title mb-0", id="dash-view-title"),
                        html.Div(description, className="text-muted small"),
                    ]
                ),
                html.Div(actions, className="dash-actions"),
            ],
            className="page-header dash-header",
        ),
        html.Div(id=VIEW_ALERT),
        filters_bar(spec["filters"], options),
        body,
    ]
    if manager:
        children.append(share_modal())
    return html.Div(children, className="dash-page")
