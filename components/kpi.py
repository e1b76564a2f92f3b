"""KPI cards: a metric's headline value, its change against the previous period, a sparkline."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _

from components.charts import sparkline
from components.formatting import change_tone, format_change, format_value
from components.ids import KPI_BODY

ARROWS = {"good": "bi-arrow-up-right", "bad": "bi-arrow-down-right", "flat": "bi-dash"}


def kpi_card(metric_id: str, title: str) -> dbc.Card:
    """Return an empty card whose body a callback fills in (so cards load independently)."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(title, className="kpi-title"),
                dcc.Loading(
                    html.Div(id={"type": KPI_BODY, "metric": metric_id}, className="kpi-body"),
                    type="dot",
                    color="#1f5fa8",
                    delay_show=150,
                ),
            ]
        ),
        className="kpi-card h-100",
    )


def kpi_body(result: dict, trend: dict | None, locale: str | None) -> list:
    """Return the card body for a metric result and its monthly trend (pure)."""
    row = (
        result["rows"][0] if result["rows"] else {"value": None, "change": None, "change_pct": None}
    )
    fmt = result["format"]
    tone = change_tone(row.get("change"), result.get("higher_is_better", True))
    if row.get("change") is not None and tone != "flat":
        arrow = "bi-arrow-up-right" if row["change"] > 0 else "bi-arrow-down-right"
    else:
        arrow = ARROWS["flat"]
    period = result["period"]
    compare = _(
        "vs %(start)s – %(end)s", start=period["previous_start"], end=period["previous_end"]
    )
    if row.get("value") is None:
        return [
            html.Div(format_value(None, fmt, locale), className="kpi-value"),
            html.Div(
                _("No figure for your scope in this period."), className="kpi-empty text-muted"
            ),
        ]
    children = [
        html.Div(format_value(row.get("value"), fmt, locale), className="kpi-value"),
        html.Div(
            [
                html.I(className=f"bi {arrow} me-1"),
                format_change(row.get("change"), row.get("change_pct"), fmt, locale),
            ],
            className=f"kpi-change kpi-{tone}",
            title=compare,
        ),
    ]
    if trend and any(r["value"] is not None for r in trend.get("rows", [])):
        labels = [r["month"] for r in trend["rows"]]
        values = [r["value"] for r in trend["rows"]]  # a missing month is a gap, not a zero
        hover = ".2%" if fmt == "percent" else ",.0f"
        children.append(
            dcc.Graph(
                figure=sparkline(labels, values, tone, hover),
                config={"displayModeBar": False},
                responsive=True,
                style={"height": "56px", "width": "100%"},
                className="kpi-spark",
            )
        )
    return children


def kpi_error(message: str) -> dbc.Alert:
    """Return the card body shown when one card fails; the rest of the page keeps working."""
    return dbc.Alert(
        [html.I(className="bi bi-exclamation-triangle me-2"), message],
        color="warning",
        className="kpi-error mb-0 py-2 small",
    )
