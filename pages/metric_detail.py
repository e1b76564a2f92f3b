"""A metric's detail (/metrics/<metric_id>): where a click on a slide or a KPI leads.

This month's figure and change, the breakdown by a dimension (branch by default; `?by=`
chooses another) as a bar chart and a table, and the 24-month trend. Figures are computed
through the viewer's row scope, like everywhere else. The body is filled by a callback
(callbacks/carousel.py: `load_detail`) so changing the dimension costs one round trip.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from components.carousel import DETAIL_BODY, DETAIL_BY, DETAIL_FOCUS, DETAIL_METRIC
from components.favorite import favorite_button
from portal.db import get_db
from portal.models import Resource
from portal.services.activity import is_favorite, record_view

dash.register_page(
    __name__,
    path_template="/metrics/<metric_id>",
    title=lambda **_kw: _("Metric details"),
    name="Metric details",
)


def _star_and_view(metric_id: str):
    """Record the view of the metric's resource and return its favorite star (if it has one)."""
    with get_db().session() as s, s.begin():
        resource = s.scalar(
            select(Resource).where(Resource.type == "metric", Resource.key == metric_id)
        )
        if resource is None:
            return None
        record_view(s, current_user, resource)
        return favorite_button(resource.id, is_favorite(s, current_user, resource.id))


def layout(metric_id: str | None = None, by: str | None = None, focus: str | None = None, **_kw):
    """Return the metric detail page in the user's language."""
    locale = str(get_locale() or "zh_CN")
    catalog = current_app.extensions["metric_catalog"]
    metric = catalog.metrics.get(metric_id or "")
    back = dbc.Button(
        [html.I(className="bi bi-arrow-left me-1"), _("Home")], href="/", color="light", size="sm"
    )
    if metric is None:
        return html.Div(
            [
                dbc.Alert(
                    [
                        html.I(className="bi bi-exclamation-triangle me-2"),
                        _("Unknown metric: %(metric)s", metric=str(metric_id)[:80]),
                    ],
                    color="warning",
                ),
                back,
            ],
            className="metric-detail",
        )
    dims = [d for d in metric.dimensions if d != "month" and d in catalog.dimensions]
    chosen = by if by in dims else ("branch" if "branch" in dims else (dims[0] if dims else None))
    star = _star_and_view(metric.id)
    header = html.Div(
        [
            html.Div(
                [
                    html.H4(metric.name.get(locale), className="page-title mb-1"),
                    html.Div(metric.description.get(locale), className="detail-description"),
                ]
            ),
            html.Div([star, back] if star is not None else [back], className="d-flex gap-2"),
        ],
        className="page-header d-flex justify-content-between align-items-start gap-3 flex-wrap",
    )
    selector = html.Div(
        [
            html.Label(_("Break down by"), htmlFor=DETAIL_BY, className="small text-muted me-2"),
            dcc.Dropdown(
                id=DETAIL_BY,
                options=[
                    {"label": catalog.dimensions[d].name.get(locale), "value": d} for d in dims
                ],
                value=chosen,
                clearable=False,
                searchable=False,
                style={"minWidth": "200px"},
            ),
        ],
        className="d-flex align-items-center mb-3",
    )
    return html.Div(
        [
            header,
            selector,
            dcc.Store(id=DETAIL_METRIC, data=metric.id),
            dcc.Store(id=DETAIL_FOCUS, data=str(focus)[:80] if focus else None),
            dcc.Loading(
                html.Div(id=DETAIL_BODY, className="detail-body"),
                type="dot",
                color="#1f5fa8",
                delay_show=200,
            ),
        ],
        className="metric-detail",
    )
