"""Charts and small components of the mining pages (pure functions; no page registered here).

Figures are plain dicts on the portal's plotly template: lift by decile with the cumulative
share of cases found, calibration, permutation importance, a branch x segment heatmap.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _

from components.charts import FONT, PALETTE

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def _layout(**extra) -> dict:
    base = {
        "template": "portal",
        "autosize": True,
        "font": {"family": FONT, "size": 12},
        "margin": {"l": 48, "r": 48, "t": 36, "b": 44},
        "legend": {"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    base.update(extra)
    return base


def lift_figure(lift: list[dict]) -> dict:
    deciles = [str(r["bin"]) for r in lift]
    return {
        "data": [
            {
                "type": "bar",
                "x": deciles,
                "y": [r["lift"] for r in lift],
                "name": _("Lift"),
                "marker": {"color": PALETTE[0]},
                "hovertemplate": _("Group %(n)s", n="%{x}") + ": %{y:.2f}<extra></extra>",
            },
            {
                "type": "scatter",
                "x": deciles,
                "y": [r["cumulative_capture"] for r in lift],
                "name": _("Share of cases found"),
                "yaxis": "y2",
                "mode": "lines+markers",
                "line": {"color": PALETTE[1], "width": 2},
                "hovertemplate": "%{y:.0%}<extra></extra>",
            },
        ],
        "layout": _layout(
            xaxis={"title": {"text": _("Score group (1 = highest)")}, "type": "category"},
            yaxis={"title": {"text": _("Lift")}, "rangemode": "tozero"},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "range": [0, 1.05],
                "tickformat": ".0%",
                "dtick": 0.25,
                "showgrid": False,
            },
            shapes=[
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 1,
                    "y1": 1,
                    "line": {"dash": "dot", "color": "#6b7a8c", "width": 1},
                }
            ],
        ),
    }


def calibration_figure(bins: list[dict]) -> dict:
    top = max([0.01, *(max(b["predicted"], b["observed"]) for b in bins)]) * 1.1
    return {
        "data": [
            {
                "type": "scatter",
                "x": [0, top],
                "y": [0, top],
                "mode": "lines",
                "name": _("Perfect calibration"),
                "line": {"dash": "dot", "color": "#6b7a8c", "width": 1},
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": [b["predicted"] for b in bins],
                "y": [b["observed"] for b in bins],
                "mode": "lines+markers",
                "name": _("Model"),
                "marker": {"size": 8, "color": PALETTE[0]},
                "customdata": [b["rows"] for b in bins],
                "hovertemplate": _("predicted")
                + " %{x:.1%} · "
                + _("observed")
                + " %{y:.1%} (%{customdata:,})<extra></extra>",
            },
        ],
        "layout": _layout(
            xaxis={"title": {"text": _("Predicted probability")}, "tickformat": ".0%"},
            yaxis={"title": {"text": _("Observed rate")}, "tickformat": ".0%"},
        ),
    }


def importance_figure(rows: list[dict], top: int = 12, label=str) -> dict:
    rows = [r for r in rows if r.get("importance") is not None][:top][::-1]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [r["importance"] for r in rows],
                "y": [label(r["feature"]) for r in rows],
                "error_x": {"type": "data", "array": [r.get("std") or 0 for r in rows]},
                "marker": {"color": PALETTE[2]},
                "hovertemplate": "%{y}: %{x:.4f}<extra></extra>",
            }
        ],
        "layout": _layout(
            margin={"l": 190, "r": 16, "t": 16, "b": 44},
            xaxis={"title": {"text": _("AUC drop when shuffled")}},
            yaxis={"automargin": True},
            showlegend=False,
        ),
    }


def heatmap_figure(
    branches: list[str], segments: list[str], values: list[list], counts: list[list]
) -> dict:
    return {
        "data": [
            {
                "type": "heatmap",
                "x": segments,
                "y": branches,
                "z": values,
                "customdata": counts,
                "colorscale": [[0, "#eef4fb"], [0.5, "#e9a23b"], [1, "#c8102e"]],
                "hovertemplate": "%{y} · %{x}: %{z:.1%} (%{customdata:,})<extra></extra>",
                "colorbar": {"tickformat": ".1%", "thickness": 12},
                "xgap": 2,
                "ygap": 2,
            }
        ],
        "layout": _layout(
            margin={"l": 120, "r": 16, "t": 16, "b": 44},
            yaxis={"automargin": True, "autorange": "reversed"},
            xaxis={"side": "bottom"},
        ),
    }


def bar_figure(labels: list[str], values: list[float], title: str, fmt: str = ",.0f") -> dict:
    return {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": values,
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "%{x}: %{y:" + fmt + "}<extra></extra>",
            }
        ],
        "layout": _layout(yaxis={"title": {"text": title}}, showlegend=False),
    }


def chart_card(
    title: str, figure: dict | None, help_text: str = "", graph_id=None, height: int = 300
) -> dbc.Card:
    graph_kwargs = {"id": graph_id} if graph_id else {}
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(title, className="mining-chart-title"),
                html.Div(help_text, className="mining-chart-help") if help_text else None,
                dcc.Graph(
                    figure=figure or {"data": [], "layout": _layout()},
                    config=GRAPH_CONFIG,
                    className="mining-graph",
                    style={"height": f"{height}px"},
                    **graph_kwargs,
                ),
            ]
        ),
        className="mining-card h-100",
    )


def metric_tile(label: str, value: str, note: str = "", tone: str = "") -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(label, className="kpi-title"),
                html.Div(value, className=f"mining-metric {tone}".strip()),
                html.Div(note, className="mining-metric-note") if note else None,
            ]
        ),
        className="mining-card h-100",
    )


def precision_tile(metrics: dict, base_rate) -> dbc.Card:
    """Return the tile of a model's precision in its top 10% (`metrics` of holdout_report)."""
    return metric_tile(
        _("Precision in the top 10%"),
        fmt_num(metrics.get("precision_at_10pct"), "{:.1%}"),
        _("base rate %(rate)s", rate=fmt_num(base_rate, "{:.1%}")),
    )


def lift_tile(metrics: dict) -> dbc.Card:
    """Return the tile of a model's top-decile lift and the share of cases it finds."""
    return metric_tile(
        _("Top-decile lift"),
        fmt_num(metrics.get("top_decile_lift"), "{:.1f}×"),
        _(
            "finds %(share)s of all cases",
            share=fmt_num(metrics.get("top_decile_capture"), "{:.0%}"),
        ),
    )


def tile_row(tiles: list, **kwargs) -> dbc.Row:
    """Return metric tiles four to a row on a wide screen, two on a phone."""
    return dbc.Row(
        [dbc.Col(t, xs=6, lg=3) for t in tiles], className="g-3 mb-3 mining-metrics", **kwargs
    )


def fmt_num(value, pattern: str = "{:.3f}") -> str:
    if value is None:
        return "—"
    try:
        return pattern.format(float(value))
    except (TypeError, ValueError):
        return "—"


def error_alert(message: str) -> dbc.Alert:
    return dbc.Alert(
        [html.I(className="bi bi-exclamation-triangle me-2"), message],
        color="warning",
        className="mb-2",
    )


def chart_row(*cards: dbc.Card) -> dbc.Row:
    """Return chart cards side by side on a wide screen (equal widths), stacked on a phone."""
    return dbc.Row(
        [dbc.Col(card, xs=12, lg=12 // len(cards), className="mb-3") for card in cards],
        className="g-3",
    )


def page_heading(icon: str, title: str, summary: str) -> list:
    """Return the heading of a page under /mining: the link back, the title, the summary."""
    return [
        dcc.Link(
            [html.I(className="bi bi-chevron-left"), _("Data mining")],
            href="/mining",
            className="small mining-back",
        ),
        html.H4([html.I(className=f"bi bi-{icon} me-2"), title], className="page-title mb-0"),
        html.Div(summary, className="text-muted small"),
    ]


def job_controls(
    button: dbc.Button, progress_id: str, message_id: str, class_name: str = "mining-retrain"
) -> html.Div:
    """Return the button that starts a background job, beside the job's progress bar (hidden
    until the job runs) and its message."""
    return html.Div(
        [
            button,
            dbc.Progress(
                id=progress_id,
                value=0,
                striped=True,
                animated=True,
                className="mining-progress",
                style={"display": "none"},
            ),
            html.Div(id=message_id, className="mining-train-msg small"),
        ],
        className=class_name,
    )
