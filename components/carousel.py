"""The data-overview carousel (数据速览, SPEC §2.1) and the slide views it shares with the big screen.

`carousel(id, slides, locale)` returns an empty frame: one slide per metric, each filled by
its own callback (callbacks/carousel.py) so one slow or failing metric stays local. Rotation,
previous / next, the dots and pause-on-hover run in the browser (a clientside callback and
assets/carousel.js): turning a slide costs no server round trip. `carousel_widget(user,
locale)` is the home-page widget: the user's own slides (or their audience's default set)
plus the "choose slides" dialog.

The slide body builders (`slide_body`, figures) are pure functions of the metric service's
plain results, used by the carousel, the big screen and the metric detail page.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_babel import gettext as _

from components.charts import FONT, PALETTE, sparkline
from components.formatting import change_tone, format_change, format_value, is_english
from portal.db import get_db
from portal.services.slides import allowed_metric_ids, user_slides

# Component id types (pattern-matching ids carry the carousel's id).
ROOT = "carousel-root"
SLIDE = "carousel-slide"
SLIDE_BODY = "carousel-slide-body"
DOT = "carousel-dot"
PREV = "carousel-prev"
NEXT = "carousel-next"
TICK = "carousel-tick"
STATE = "carousel-state"
CHOOSE_OPEN = "carousel-choose-open"
CHOOSE_MODAL = "carousel-choose-modal"
CHOOSE_LIST = "carousel-choose-list"
CHOOSE_SAVE = "carousel-choose-save"
CHOOSE_RESET = "carousel-choose-reset"
CHOOSE_FEEDBACK = "carousel-choose-feedback"
CONTAINER = "carousel-container"
DETAIL_BY = "metric-detail-by"
DETAIL_BODY = "metric-detail-body"
DETAIL_METRIC = "metric-detail-metric"
DETAIL_FOCUS = "metric-detail-focus"
BARS = "carousel-bars"
HOME_CAROUSEL = "home"
# The big screen's component ids (pages/bigscreen.py, callbacks/bigscreen.py).
BS_KEY = "bigscreen-key"
BS_STAGE = "bigscreen-stage"
BS_LAST = "bigscreen-last"  # the last good load: {"at": ISO time, "refresh_s", "interval_s"}
BS_TEXTS = "bigscreen-texts"
BS_CLOCK = "bigscreen-clock"
BS_STATUS = "bigscreen-status"
BS_REFRESH = "bigscreen-refresh"
BS_SECOND = "bigscreen-second"
BS_HEARTBEAT = "bigscreen-heartbeat"
BS_HEARTBEAT_S = 20
BS_ERROR = "bigscreen-error"
BS_SLIDE = "bigscreen-slide"  # pattern id type: {"type": BS_SLIDE, "index": i}
BS_DOT = "bigscreen-dot"
BAR_LIMIT = 12  # bars shown in a slide's breakdown chart

ARROW = {"good": "bi-arrow-up-right", "bad": "bi-arrow-down-right"}
THEMES = {
    "light": {"ink": "#1c2733", "muted": "#6b7a8c", "grid": "#e6ebf1", "bar": PALETTE[0]},
    "dark": {
        "ink": "#e8eef7",
        "muted": "#8fa3bf",
        "grid": "rgba(255,255,255,0.08)",
        "bar": "#4da3ff",
    },
}


def slide_id(carousel_id: str, index: int, slide: dict) -> dict:
    return {"type": SLIDE, "carousel": carousel_id, "index": index}


def body_id(carousel_id: str, index: int, slide: dict) -> dict:
    """Return the id of a slide's body; it names the metric and breakdown the callback loads."""
    return {
        "type": SLIDE_BODY,
        "carousel": carousel_id,
        "index": index,
        "metric": slide["metric"],
        "breakdown": slide.get("breakdown") or "",
    }


def metric_url(metric_id: str, breakdown: str | None = None) -> str:
    return f"/metrics/{metric_id}" + (f"?by={breakdown}" if breakdown else "")


# -- the frame ---------------------------------------------------------------------------------
def carousel(
    id: str,  # noqa: A002 - the component id, as Dash calls it
    slides: list[dict],
    locale: str | None,
    *,
    interval_s: int = 8,
    title: str | None = None,
    subtitle: str | None = None,
    tools: list | None = None,
) -> html.Div:
    """Return the carousel frame for `slides` ([{metric, breakdown}]); bodies load per slide."""
    n = len(slides)
    slide_divs = [
        html.Div(
            dcc.Loading(
                html.Div(
                    slide_placeholder(),
                    id=body_id(id, i, s),
                    className="carousel-slide-body",
                ),
                type="dot",
                color="#1f5fa8",
                delay_show=200,
                parent_className="carousel-loading",
            ),
            id=slide_id(id, i, s),
            className="carousel-slide" + (" active" if i == 0 else ""),
            role="group",
            **{"aria-roledescription": "slide", "aria-label": f"{i + 1} / {n}"},
        )
        for i, s in enumerate(slides)
    ]
    dots = [
        html.Button(
            id={"type": DOT, "carousel": id, "index": i},
            className="carousel-dot" + (" active" if i == 0 else ""),
            n_clicks=0,
            title=_("Slide %(n)d", n=i + 1),
            **{"aria-label": _("Slide %(n)d", n=i + 1)},
        )
        for i in range(n)
    ]
    controls = html.Div(
        [
            html.Button(
                html.I(className="bi bi-chevron-left"),
                id={"type": PREV, "carousel": id},
                className="btn btn-sm btn-light carousel-btn",
                n_clicks=0,
                title=_("Previous"),
                **{"aria-label": _("Previous")},
            ),
            html.Div(dots, className="carousel-dots"),
            html.Button(
                html.I(className="bi bi-chevron-right"),
                id={"type": NEXT, "carousel": id},
                className="btn btn-sm btn-light carousel-btn",
                n_clicks=0,
                title=_("Next"),
                **{"aria-label": _("Next")},
            ),
        ],
        className="carousel-controls",
    )
    header = html.Div(
        [
            html.Div(
                [
                    html.Span(title or _("Data overview"), className="carousel-title"),
                    html.Span(subtitle, className="carousel-subtitle") if subtitle else None,
                ],
                className="carousel-heading",
            ),
            html.Div(tools or [], className="carousel-tools"),
        ],
        className="carousel-header",
    )
    if not slides:
        body = html.Div(_("No slides chosen yet."), className="carousel-empty text-muted")
        return html.Div([header, body], className="card portal-carousel")
    return html.Div(
        [
            header,
            html.Div(slide_divs, className="carousel-stage", **{"aria-live": "polite"}),
            controls,
            dcc.Interval(id={"type": TICK, "carousel": id}, interval=interval_s * 1000),
            dcc.Store(id={"type": STATE, "carousel": id}, data={"index": 0, "count": n, "id": id}),
        ],
        id=f"carousel-{id}",
        className="card portal-carousel",
        role="region",
        **{"data-carousel": id, "aria-roledescription": "carousel"},
    )


def slide_placeholder() -> html.Div:
    return html.Div(className="carousel-placeholder")


# -- slide bodies ------------------------------------------------------------------------------
def headline(result: dict, locale: str | None, *, link: str | None = None) -> list:
    """Return the metric's name, value and change (the slide's headline figures)."""
    row = result["rows"][0] if result["rows"] else {}
    fmt = result["format"]
    tone = change_tone(row.get("change"), result.get("higher_is_better", True))
    arrow = ARROW.get(tone, "bi-dash")
    if tone == "flat":
        arrow = "bi-dash"
    elif row.get("change") is not None:
        arrow = "bi-arrow-up-right" if row["change"] > 0 else "bi-arrow-down-right"
    period = result["period"]
    value = html.Div(format_value(row.get("value"), fmt, locale), className="slide-value")
    return [
        html.Div(result["name"], className="slide-name"),
        dcc.Link(value, href=link, className="slide-value-link") if link else value,
        html.Div(
            [
                html.I(className=f"bi {arrow} me-1"),
                format_change(row.get("change"), row.get("change_pct"), fmt, locale),
                html.Span(_(" vs last month"), className="slide-compare"),
            ],
            className=f"slide-change kpi-{tone}",
            title=_(
                "vs %(start)s – %(end)s",
                start=period["previous_start"],
                end=period["previous_end"],
            ),
        ),
        html.Div(_("As of %(date)s", date=period["end"]), className="slide-asof"),
    ]


def headline_stats(data: dict, locale: str | None) -> list[tuple[str, str, str]]:
    """Return a slide's extra figures as (label, value, hint): 12-month high and low, the leader.

    Computed from what the slide already loaded; no further query.
    """
    result, trend = data["result"], data.get("trend")
    fmt = result["format"]
    stats = []
    months = [r for r in (trend or {}).get("rows", []) if r.get("value") is not None]
    if len(months) >= 2:
        high = max(months, key=lambda r: r["value"])
        low = min(months, key=lambda r: r["value"])
        stats.append((_("12-month high"), format_value(high["value"], fmt, locale), high["month"]))
        stats.append((_("12-month low"), format_value(low["value"], fmt, locale), low["month"]))
    breakdown, dim = data.get("breakdown"), data.get("breakdown_dim")
    rows = [r for r in (breakdown or {}).get("rows", []) if r.get("value") is not None]
    if rows and dim:
        top = max(rows, key=lambda r: r["value"])
        stats.append(
            (
                _("Highest %(dimension)s", dimension=dimension_name(dim, locale)),
                str(top.get(f"{dim}_label") or top.get(dim)),
                format_value(top["value"], fmt, locale),
            )
        )
    return stats


def stats_row(stats: list[tuple[str, str, str]], class_name: str = "slide-stats") -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Div(label, className="slide-stat-label"),
                    html.Div(value, className="slide-stat-value"),
                    html.Div(hint, className="slide-stat-hint"),
                ],
                className="slide-stat",
            )
            for label, value, hint in stats
        ],
        className=class_name,
    )


def trend_figure(trend: dict, fmt: str, theme: str = "light", tone: str = "flat") -> dict | None:
    """Return the 12-month sparkline of a slide (None when the trend is empty)."""
    if not trend or not any(r["value"] is not None for r in trend.get("rows", [])):
        return None
    labels = [r["month"] for r in trend["rows"]]
    values = [r["value"] for r in trend["rows"]]
    figure = sparkline(labels, values, tone, ".2%" if fmt == "percent" else ",.0f")
    # A slide has room for the months, so a reader can tell when the high and the low were.
    figure["layout"]["xaxis"] = {
        "type": "category",
        "fixedrange": True,
        "showgrid": False,
        "showline": False,
        "ticks": "",
        "nticks": 7,
        "tickfont": {"color": THEMES[theme]["muted"], "size": 15 if theme == "dark" else 11},
    }
    # Side margins keep the first and last month labels whole.
    figure["layout"]["margin"] = {"l": 40, "r": 40, "t": 4, "b": 28 if theme == "dark" else 22}
    if theme == "dark":
        figure["data"][0]["fillcolor"] = "rgba(77,163,255,0.12)"
        if tone == "flat":
            figure["data"][0]["line"]["color"] = THEMES["dark"]["bar"]
    return figure


def breakdown_figure(
    result: dict,
    dim: str,
    locale: str | None,
    theme: str = "light",
    limit: int = BAR_LIMIT,
    font_size: int = 12,
) -> dict | None:
    """Return a horizontal bar chart of the metric by one dimension, largest first."""
    rows = [r for r in result.get("rows", []) if r.get("value") is not None]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: r["value"], reverse=True)[:limit]
    rows.reverse()  # plotly draws the first bar at the bottom
    colors = THEMES[theme]
    fmt = result["format"]
    labels = [str(r.get(f"{dim}_label") or r.get(dim) or "—") for r in rows]
    values = [r["value"] for r in rows]
    text = [format_value(v, fmt, locale) for v in values]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": values,
                "y": labels,
                "customdata": [r.get(dim) for r in rows],
                "text": text,
                "textposition": "outside",
                "textfont": {"color": colors["ink"], "size": font_size},
                "cliponaxis": False,
                "marker": {"color": colors["bar"]},
                "hovertemplate": "%{y}: %{text}<extra></extra>",
            }
        ],
        "layout": {
            "autosize": True,
            "margin": {"l": 8, "r": 12, "t": 8, "b": 8},
            "showlegend": False,
            "bargap": 0.28,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT, "color": colors["ink"], "size": font_size},
            "hoverlabel": {"font": {"family": FONT}},
            "xaxis": {
                "visible": False,
                "fixedrange": True,
                # Room for the value labels outside the bars, on both sides of zero.
                "range": [min(0, min(values)) * 1.6, max(0, max(values)) * 1.25 or 1],
            },
            "yaxis": {
                "automargin": True,
                "fixedrange": True,
                "tickfont": {"color": colors["muted"]},
            },
        },
    }


def line_figure(trend: dict, fmt: str, locale: str | None, theme: str = "light") -> dict:
    """Return a full trend line with axes (the metric detail page)."""
    colors = THEMES[theme]
    rows = trend.get("rows", [])
    present = [r["value"] for r in rows if r["value"] is not None]
    top = max(present + [0])
    low = min(present + [0]) if fmt != "percent" else min(present or [0])
    ticks = [low + (top - low) * i / 4 for i in range(5)] if top > low else []
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [r["month"] for r in rows],
                "y": [r["value"] for r in rows],
                "text": [format_value(r["value"], fmt, locale) for r in rows],
                "line": {"color": colors["bar"], "width": 2.5},
                "marker": {"size": 5},
                "hovertemplate": "%{x}: %{text}<extra></extra>",
            }
        ],
        "layout": {
            "autosize": True,
            "margin": {"l": 56, "r": 16, "t": 12, "b": 36},
            "showlegend": False,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT, "color": colors["ink"], "size": 12},
            "hoverlabel": {"font": {"family": FONT}},
            "xaxis": {"type": "category", "gridcolor": colors["grid"], "fixedrange": True},
            "yaxis": {
                "gridcolor": colors["grid"],
                "fixedrange": True,
                "tickvals": ticks,
                "ticktext": [format_value(v, fmt, locale) for v in ticks],
                "rangemode": "tozero" if fmt != "percent" else "normal",
                "automargin": True,
            },
        },
    }


def graph(figure: dict, class_name: str, graph_id=None, height: str | None = None) -> dcc.Graph:
    extra = {"id": graph_id} if graph_id is not None else {}
    if height:
        extra["style"] = {"height": height}
    return dcc.Graph(
        figure=figure,
        config={"displayModeBar": False, "responsive": True},
        responsive=True,
        className=class_name,
        **extra,
    )


def dimension_name(dim: str | None, locale: str | None) -> str:
    if not dim:
        return ""
    found = current_app.extensions["metric_catalog"].dimensions.get(dim)
    return found.name.get(locale) if found is not None else dim


def slide_body(
    data: dict, locale: str | None, *, theme: str = "light", graph_ids: dict | None = None
) -> list:
    """Return a slide's content: headline figures, sparkline and the breakdown chart.

    `data` is `portal.services.slides.slide_data(...)`: {"result", "trend", "breakdown",
    "breakdown_dim", "metric"}.
    """
    result, trend = data["result"], data["trend"]
    row = result["rows"][0] if result["rows"] else {}
    tone = change_tone(row.get("change"), result.get("higher_is_better", True))
    link = metric_url(data["metric"], data.get("breakdown_dim"))
    left = headline(result, locale, link=link)
    stats = headline_stats(data, locale)
    if stats:
        left.append(stats_row(stats))
    spark = trend_figure(trend, result["format"], theme, tone)
    if spark is not None:
        left.append(graph(spark, "slide-spark", height="100%"))
    children = [html.Div(left, className="slide-left")]
    bars = None
    if data.get("breakdown") is not None:
        bars = breakdown_figure(data["breakdown"], data["breakdown_dim"], locale, theme)
    if bars is not None:
        dim = dimension_name(data["breakdown_dim"], locale)
        children.append(
            html.Div(
                [
                    html.Div(
                        [
                            _("By %(dimension)s", dimension=dim),
                            dcc.Link(
                                [_("Details"), html.I(className="bi bi-chevron-right ms-1")],
                                href=link,
                                className="slide-detail-link",
                            ),
                        ],
                        className="slide-chart-title",
                    ),
                    graph(bars, "slide-bars", (graph_ids or {}).get("bars"), height="100%"),
                ],
                className="slide-right",
                title=_("Click a bar to open the details"),
            )
        )
    return [html.Div(children, className="slide-grid")]


def slide_error(message: str) -> dbc.Alert:
    return dbc.Alert(
        [html.I(className="bi bi-exclamation-triangle me-2"), message],
        color="warning",
        className="mb-0 py-2 small slide-error",
    )


# -- the "choose slides" dialog ----------------------------------------------------------------
def choose_dialog(carousel_id: str, options: list[dict], chosen: list[str]) -> dbc.Modal:
    """Return the dialog with a checklist of the metrics the user may put on a slide."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Choose your slides"))),
            dbc.ModalBody(
                [
                    html.P(
                        _("Pick up to 12 metrics; the carousel shows them in catalog order."),
                        className="text-muted small",
                    ),
                    dbc.Checklist(
                        id={"type": CHOOSE_LIST, "carousel": carousel_id},
                        options=options,
                        value=chosen,
                        className="carousel-choose-list",
                        inputClassName="me-2",
                    ),
                    html.Div(
                        id={"type": CHOOSE_FEEDBACK, "carousel": carousel_id}, className="mt-2"
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        _("Back to default"),
                        id={"type": CHOOSE_RESET, "carousel": carousel_id},
                        color="link",
                        className="me-auto",
                        n_clicks=0,
                    ),
                    dbc.Button(
                        _("Save"),
                        id={"type": CHOOSE_SAVE, "carousel": carousel_id},
                        color="primary",
                        n_clicks=0,
                    ),
                ]
            ),
        ],
        id={"type": CHOOSE_MODAL, "carousel": carousel_id},
        is_open=False,
        scrollable=True,
    )


def metric_options(locale: str | None, metric_ids: list[str]) -> list[dict]:
    catalog = current_app.extensions["metric_catalog"]
    return [{"label": catalog.metric(m).name.get(locale), "value": m} for m in metric_ids]


def carousel_card(carousel_id: str, shown: dict, locale: str | None) -> html.Div:
    """Return the carousel card for what `user_slides` returned, with its tools."""
    tools = []
    if shown.get("set"):
        tools.append(
            html.A(
                [html.I(className="bi bi-display me-1"), _("Big screen")],
                href=f"/bigscreen/{shown['set']}",
                className="btn btn-sm btn-link carousel-bigscreen-link",
                title=_("Open this set on a wall display"),
            )
        )
    tools.append(
        html.Button(
            [html.I(className="bi bi-sliders me-1"), _("Choose slides")],
            id={"type": CHOOSE_OPEN, "carousel": carousel_id},
            className="btn btn-sm btn-outline-primary carousel-choose-btn",
            n_clicks=0,
        )
    )
    return carousel(
        carousel_id,
        shown["slides"],
        locale,
        interval_s=shown["interval_s"],
        title=_("Data overview"),
        subtitle=_("This month compared with last month"),
        tools=tools,
    )


def carousel_widget(user, locale: str | None, carousel_id: str = HOME_CAROUSEL) -> html.Div:
    """Return the home page's carousel widget for `user`: their slides and the chooser.

    The lead's home grid places it; everything it needs is loaded here (one store session).
    """
    with get_db().session() as s:
        shown = user_slides(s, user, locale)
        allowed = allowed_metric_ids(user)
    children = []
    if shown["notice"]:
        children.append(
            dbc.Alert(shown["notice"], color="info", className="py-2 small mb-2", dismissable=True)
        )
    children.append(
        html.Div(
            carousel_card(carousel_id, shown, locale),
            id={"type": CONTAINER, "carousel": carousel_id},
        )
    )
    chosen = [s["metric"] for s in shown["slides"]]
    children.append(choose_dialog(carousel_id, metric_options(locale, allowed), chosen))
    return html.Div(
        children, className="carousel-widget", lang="en" if is_english(locale) else "zh-CN"
    )


# -- the metric detail page ------------------------------------------------------------------
def _detail_rows(result: dict, dim: str, locale: str | None, focus: str | None) -> list[dict]:
    fmt = result["format"]
    rows = []
    for r in result.get("rows", []):
        key = r.get(dim)
        rows.append(
            {
                "key": None if key is None else str(key),
                "label": str(r.get(f"{dim}_label") or key or "—"),
                "value": r.get("value"),
                "value_text": format_value(r.get("value"), fmt, locale),
                "previous": r.get("previous"),
                "previous_text": format_value(r.get("previous"), fmt, locale),
                "change": r.get("change") if fmt == "percent" else r.get("change_pct"),
                "change_text": format_change(r.get("change"), r.get("change_pct"), fmt, locale),
                "focus": focus is not None and key is not None and str(key) == focus,
            }
        )
    return sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0)))


def detail_table(result: dict, dim: str, locale: str | None, focus: str | None = None):
    """Return the breakdown as a sortable grid (numbers sort as numbers, show as 万/亿)."""

    def shown(field: str) -> dict:
        return {"function": f"params.data.{field}"}

    columns = [
        {"field": "label", "headerName": dimension_name(dim, locale), "flex": 2, "minWidth": 120},
        {
            "field": "value",
            "headerName": _("This month"),
            "valueFormatter": shown("value_text"),
            "type": "rightAligned",
            "flex": 1,
            "minWidth": 110,
            "sort": "desc",
        },
        {
            "field": "previous",
            "headerName": _("Last month"),
            "valueFormatter": shown("previous_text"),
            "type": "rightAligned",
            "flex": 1,
            "minWidth": 110,
        },
        {
            "field": "change",
            "headerName": _("Change"),
            "valueFormatter": shown("change_text"),
            "type": "rightAligned",
            "flex": 1,
            "minWidth": 100,
        },
    ]
    return dag.AgGrid(
        id="metric-detail-grid",
        columnDefs=columns,
        rowData=_detail_rows(result, dim, locale, focus),
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "suppressCellFocus": True,
            "rowClassRules": {"detail-focus-row": "params.data.focus"},
        },
        className="ag-theme-alpine detail-grid",
        style={"height": "100%", "width": "100%"},
    )


def detail_body(data: dict, locale: str | None, focus: str | None = None) -> list:
    """Return the detail page's body: headline, 24-month trend, breakdown chart and table."""
    result, trend, breakdown, dim = data["result"], data["trend"], data["breakdown"], data["dim"]
    headline_card = dbc.Card(
        dbc.CardBody(headline(result, locale), className="detail-headline"),
        className="detail-card h-100",
    )
    trend_card = dbc.Card(
        dbc.CardBody(
            [
                html.Div(_("Last 24 months"), className="slide-chart-title mb-1"),
                graph(line_figure(trend, result["format"], locale), "detail-chart", height="300px")
                if trend
                else html.Div(_("This metric has no monthly trend."), className="text-muted"),
            ]
        ),
        className="detail-card h-100",
    )
    children = [
        dbc.Row(
            [
                dbc.Col(headline_card, md=4, className="mb-3"),
                dbc.Col(trend_card, md=8, className="mb-3"),
            ],
            className="g-3",
        )
    ]
    if breakdown is not None and dim:
        bars = breakdown_figure(breakdown, dim, locale, limit=40)
        height = f"{max(240, 26 * min(40, len(breakdown['rows'])) + 40)}px"
        children.append(
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.Div(
                                        _(
                                            "By %(dimension)s",
                                            dimension=dimension_name(dim, locale),
                                        ),
                                        className="slide-chart-title mb-1",
                                    ),
                                    graph(bars, "detail-bars", height=height)
                                    if bars
                                    else html.Div(
                                        _("No data for this period."), className="text-muted"
                                    ),
                                ]
                            ),
                            className="detail-card h-100",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                html.Div(
                                    detail_table(breakdown, dim, locale, focus),
                                    className="detail-grid",
                                )
                            ),
                            className="detail-card h-100",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                ],
                className="g-3",
            )
        )
    return children
