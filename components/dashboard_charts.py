"""Dashboard charts: pure functions from a chart's data (services/dashboards.chart_data) to Dash.

Figures are plain dicts in the portal's look (components/charts.py), not go.Figure: plotly's
validation would cost more than a warm query. Money is scaled to 万/亿 (Chinese) or m/bn
(English) on the axis, and every hover shows the value formatted like a KPI card.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _

from components.charts import FONT, PALETTE
from components.formatting import format_change, format_time, format_value, is_english
from components.grid import widget_grid
from components.kpi import kpi_body
from portal.services.dashboards import chart_title

CHART_BODY = "dash-chart"
VIEW_KEY = "dash-view-key"
VIEW_NAV = "dash-view-nav"
VIEW_ALERT = "dash-view-alert"
VIEW_DUPLICATE = "dash-view-duplicate"
SHARE_OPEN = "dash-share-open"
ICONS = {
    "bar": "bi-bar-chart",
    "line": "bi-graph-up",
    "area": "bi-graph-up-arrow",
    "pie": "bi-pie-chart",
    "kpi": "bi-123",
    "table": "bi-table",
    "map": "bi-geo-alt",
}
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def type_labels() -> dict[str, str]:
    """Return the chart types' names in the user's language."""
    return {
        "bar": _("Bar chart"),
        "line": _("Line chart"),
        "area": _("Area chart"),
        "pie": _("Pie chart"),
        "kpi": _("KPI card"),
        "table": _("Table"),
        "map": _("Branch map"),
    }


def chart_card(body_id: dict, title: str, chart_type: str, subtitle: str = "", tools=None):
    """Return a chart's card whose body a callback fills in (so charts load independently)."""
    header = html.Div(
        [
            html.I(className=f"bi {ICONS.get(chart_type, 'bi-bar-chart')} me-2 text-primary"),
            html.Span(title, className="dash-chart-title", title=title),
            html.Span(subtitle, className="dash-chart-subtitle ms-2") if subtitle else None,
            html.Div(tools or [], className="dash-chart-tools ms-auto"),
        ],
        className="dash-chart-header",
    )
    return html.Div(
        [
            header,
            dcc.Loading(
                html.Div(id=body_id, className="dash-chart-body"),
                type="dot",
                color="#1f5fa8",
                delay_show=200,
                parent_className="dash-chart-loading",
            ),
        ],
        className=f"dash-chart-card dash-chart-{chart_type}",
    )


def chart_error(message: str):
    """Return the body shown when one chart fails; the other charts keep working."""
    return dbc.Alert(
        [html.I(className="bi bi-exclamation-triangle me-2"), message],
        color="warning",
        className="dash-chart-error mb-0 py-2 small",
    )


def _scale(values: list, fmt: str, locale: str | None) -> tuple[float, str]:
    """Return (divisor, unit label) for an axis of money or counts."""
    present = [abs(v) for v in values if isinstance(v, int | float)]
    top = max(present, default=0)
    english = is_english(locale)
    if fmt == "percent":
        return 1.0, ""
    money = fmt == "currency"
    steps = (
        ((1e9, "¥ bn", "bn"), (1e6, "¥ m", "m"))
        if english
        else ((1e8, "亿元", "亿"), (1e4, "万元", "万"))
    )
    for limit, money_unit, count_unit in steps:
        if top >= limit:
            return limit, money_unit if money else count_unit
    return 1.0, ("¥" if english else "元") if money else ""


def _layout(**extra) -> dict:
    layout = {
        "autosize": True,
        "font": {"family": FONT, "size": 12, "color": "#1c2733"},
        "colorway": PALETTE,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 48, "r": 12, "t": 8, "b": 36},
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
        "xaxis": {"gridcolor": "#e6ebf1", "zeroline": False, "automargin": True},
        "yaxis": {"gridcolor": "#e6ebf1", "zeroline": False, "automargin": True},
    }
    layout.update(extra)
    return layout


def _graph(figure: dict):
    return dcc.Graph(
        figure=figure, config=GRAPH_CONFIG, responsive=True, className="dash-chart-graph"
    )


def _series(data: dict, locale: str | None) -> tuple[list[str], list[dict]]:
    """Return the category labels and one trace spec per series or metric."""
    dim = data["dimension"]["id"]
    series_dim = data["series_dimension"]["id"] if data["series_dimension"] else None
    labels: list[str] = []
    for row in data["rows"]:
        label = row.get(f"{dim}_label")
        if label not in labels:
            labels.append(label)
    traces = []
    if series_dim:
        names: list[str] = []
        for row in data["rows"]:
            if row.get(f"{series_dim}_label") not in names:
                names.append(row.get(f"{series_dim}_label"))
        for name in names:
            by_label = {
                r.get(f"{dim}_label"): r["values"][0]
                for r in data["rows"]
                if r.get(f"{series_dim}_label") == name
            }
            traces.append(
                {"name": str(name), "values": [by_label.get(x) for x in labels], "metric": 0}
            )
    else:
        for i, metric in enumerate(data["metrics"]):
            by_label = {r.get(f"{dim}_label"): r["values"][i] for r in data["rows"]}
            traces.append(
                {"name": metric["name"], "values": [by_label.get(x) for x in labels], "metric": i}
            )
    return [str(x) for x in labels], traces


def _xy_figure(data: dict, locale: str | None) -> dict:
    chart_type = data["type"]
    labels, traces = _series(data, locale)
    fmt = data["metrics"][0]["format"]
    divisor, unit = _scale([v for t in traces for v in t["values"]], fmt, locale)
    figure_data = []
    for n, trace in enumerate(traces):
        metric = data["metrics"][trace["metric"]]
        texts = [format_value(v, metric["format"], locale) for v in trace["values"]]
        y = [None if v is None else v / divisor for v in trace["values"]]
        common = {
            "name": trace["name"],
            "x": labels,
            "y": y,
            "text": texts,
            "hovertemplate": "%{x}<br>" + trace["name"] + ": %{text}<extra></extra>",
        }
        if chart_type == "bar":
            figure_data.append({"type": "bar", **common, "textposition": "none"})
        else:
            line = {
                "type": "scatter",
                "mode": "lines+markers" if len(labels) <= 24 else "lines",
                "line": {"width": 2},
                "marker": {"size": 5},
                **common,
            }
            if chart_type == "area":
                line["stackgroup"] = "one" if len(traces) > 1 else None
                line["fill"] = "tonexty" if len(traces) > 1 and n else "tozeroy"
            figure_data.append(line)
    yaxis = {"gridcolor": "#e6ebf1", "zeroline": False, "automargin": True, "title": {"text": unit}}
    if fmt == "percent":
        yaxis["tickformat"] = ".1%"
    else:
        yaxis["tickformat"] = ",.2~f"
    xaxis = {"gridcolor": "#e6ebf1", "zeroline": False, "automargin": True, "type": "category"}
    if len(labels) > 8:
        xaxis["tickangle"] = -35
    return _layout_figure(figure_data, len(traces) > 1, xaxis=xaxis, yaxis=yaxis)


def _layout_figure(figure_data: list, legend: bool, **layout) -> dict:
    margin = {"l": 48, "r": 12, "t": 28 if legend else 8, "b": 36}
    return {
        "data": figure_data,
        "layout": _layout(showlegend=legend, bargap=0.25, margin=margin, **layout),
    }


def _pie_figure(data: dict, locale: str | None) -> dict:
    dim = data["dimension"]["id"]
    metric = data["metrics"][0]
    labels = [str(r.get(f"{dim}_label")) for r in data["rows"]]
    values = [r["values"][0] for r in data["rows"]]
    texts = [format_value(v, metric["format"], locale) for v in values]
    return {
        "data": [
            {
                "type": "pie",
                "labels": labels,
                "values": [v if v and v > 0 else 0 for v in values],
                "text": texts,
                "hole": 0.45,
                "sort": False,
                "textinfo": "percent",
                "hovertemplate": "%{label}: %{text} (%{percent})<extra></extra>",
                "marker": {"colors": PALETTE * (len(labels) // len(PALETTE) + 1)},
            }
        ],
        "layout": _layout(
            showlegend=True,
            margin={"l": 8, "r": 8, "t": 8, "b": 8},
            legend={"orientation": "v", "x": 1.0, "y": 0.5, "font": {"size": 11}},
        ),
    }


def _map_figure(data: dict, locale: str | None) -> dict:
    """Return branches as bubbles on longitude/latitude axes (no map tiles: works offline)."""
    dim = data["dimension"]["id"]
    metric = data["metrics"][0]
    coords = data.get("coordinates") or {}
    rows = [r for r in data["rows"] if str(r.get(dim)) in coords]
    values = [r["values"][0] for r in rows]
    present = [abs(v) for v in values if isinstance(v, int | float)]
    top = max(present, default=0) or 1
    sizes = [12 + 38 * ((abs(v) if isinstance(v, int | float) else 0) / top) ** 0.5 for v in values]
    lats = [coords[str(r.get(dim))][0] for r in rows]
    lons = [coords[str(r.get(dim))][1] for r in rows]
    labels = [str(r.get(f"{dim}_label")) for r in rows]
    texts = [format_value(v, metric["format"], locale) for v in values]
    axis = {"visible": True, "showgrid": True, "gridcolor": "#eef2f6", "zeroline": False}
    x_range = [min(lons, default=73) - 3, max(lons, default=135) + 3]
    y_range = [min(lats, default=18) - 2, max(lats, default=53) + 2.5]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": lons,
                "y": lats,
                "text": labels,
                "customdata": texts,
                "textposition": "top center",
                "textfont": {"size": 11, "color": "#1c2733"},
                "marker": {
                    "size": sizes,
                    "color": [v if isinstance(v, int | float) else 0 for v in values],
                    "colorscale": [[0, "#a9c6e8"], [1, "#15467d"]],
                    "line": {"width": 1, "color": "#ffffff"},
                    "opacity": 0.85,
                },
                "hovertemplate": "%{text}: %{customdata}<extra></extra>",
            }
        ],
        "layout": _layout(
            showlegend=False,
            margin={"l": 36, "r": 8, "t": 8, "b": 28},
            xaxis={**axis, "title": {"text": _("Longitude")}, "ticksuffix": "°", "range": x_range},
            yaxis={**axis, "title": {"text": _("Latitude")}, "ticksuffix": "°", "range": y_range},
        ),
    }


def _table(data: dict, locale: str | None):
    dims = [d for d in (data["dimension"], data["series_dimension"]) if d]
    columns = [
        {"field": f"d{i}", "headerName": d["name"], "minWidth": 110, "flex": 1}
        for i, d in enumerate(dims)
    ]
    for i, metric in enumerate(data["metrics"]):
        columns.append(
            {
                "field": f"v{i}",
                "headerName": metric["name"],
                "type": "rightAligned",
                "minWidth": 120,
                "flex": 1,
                "valueFormatter": {"function": f"params.data.t{i}"},
            }
        )
        columns.append(
            {
                "field": f"c{i}",
                "headerName": _("Change"),
                "type": "rightAligned",
                "minWidth": 90,
                "flex": 1,
                "sortable": False,
            }
        )
    rows = []
    for row in data["rows"]:
        entry = {f"d{i}": str(row.get(f"{d['id']}_label")) for i, d in enumerate(dims)}
        for i, metric in enumerate(data["metrics"]):
            value, previous = row["values"][i], row["previous"][i]
            entry[f"v{i}"] = value
            entry[f"t{i}"] = format_value(value, metric["format"], locale)
            change = pct = None
            if isinstance(value, int | float) and isinstance(previous, int | float):
                change = value - previous
                pct = change / abs(previous) if previous else None
            entry[f"c{i}"] = format_change(change, pct, metric["format"], locale)
        rows.append(entry)
    return dag.AgGrid(
        columnDefs=columns,
        rowData=rows,
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={"domLayout": "normal", "suppressCellFocus": True},
        className="ag-theme-alpine dash-chart-table",
        style={"height": "100%", "width": "100%"},
    )


def chart_body(data: dict, locale: str | None) -> list:
    """Return a chart's body for its data (pure): figure or table, then any notes."""
    chart_type = data["type"]
    children: list = []
    if chart_type == "kpi":
        children.append(
            html.Div(kpi_body(data["result"], data.get("trend"), locale), className="dash-kpi")
        )
    elif not data["rows"]:
        children.append(html.Div(_("No data for this period."), className="dash-chart-empty"))
    elif chart_type in ("bar", "line", "area"):
        children.append(_graph(_xy_figure(data, locale)))
    elif chart_type == "pie":
        children.append(_graph(_pie_figure(data, locale)))
    elif chart_type == "map":
        children.append(_graph(_map_figure(data, locale)))
    elif chart_type == "table":
        children.append(_table(data, locale))
    footer = []
    if data.get("truncated"):
        footer.append(html.Div(_("Only the first rows are shown."), className="dash-chart-note"))
    for note in data.get("notes", []):
        footer.append(
            html.Div(
                [html.I(className="bi bi-info-circle me-1"), note], className="dash-chart-note"
            )
        )
    if footer:
        children.append(html.Div(footer, className="dash-chart-notes"))
    return children


# -- page building blocks ------------------------------------------------------------------
FILTER_PERIOD = "dash-filter-period"
FILTER_RANGE = "dash-filter-range"
FILTER_BRANCH = "dash-filter-branch"
FILTER_PRODUCT = "dash-filter-product"
CUSTOM = "custom"


def period_options(include_default: bool = True) -> list[dict]:
    """Return the period choices: each chart's own (optional), the named periods, a range."""
    options = [{"label": _("Each chart's own period"), "value": ""}] if include_default else []
    options += [
        {"label": _("This month"), "value": "this_month"},
        {"label": _("Last month"), "value": "last_month"},
        {"label": _("This quarter"), "value": "this_quarter"},
        {"label": _("Last quarter"), "value": "last_quarter"},
        {"label": _("Year to date"), "value": "ytd"},
        {"label": _("Last 12 months"), "value": "last_12_months"},
    ]
    if include_default:
        options.append({"label": _("Date range…"), "value": CUSTOM})
    return options


def _choice_filter(label: str, component_id: str, options: list, value, placeholder: str):
    """Return one labelled drop-down of the filters bar (branch, product)."""
    return html.Div(
        [
            html.Label(label, className="dash-filter-label"),
            dcc.Dropdown(
                id=component_id,
                options=options,
                value=value,
                placeholder=placeholder,
                className="dash-filter-input",
            ),
        ],
        className="dash-filter",
    )


def filters_bar(filters: dict, options: dict, prefix: str = "") -> html.Div:
    """Return the dashboard-wide filters: period or date range, branch, product."""
    period = filters.get("period")
    start = end = None
    if isinstance(period, dict):
        start, end, period = period.get("start"), period.get("end"), CUSTOM
    return html.Div(
        [
            html.Div(
                [
                    html.Label(_("Period"), className="dash-filter-label"),
                    dcc.Dropdown(
                        id=prefix + FILTER_PERIOD,
                        options=period_options(),
                        value=period or "",
                        clearable=False,
                        className="dash-filter-input",
                    ),
                ],
                className="dash-filter",
            ),
            html.Div(
                [
                    html.Label(_("Date range"), className="dash-filter-label"),
                    dcc.DatePickerRange(
                        id=prefix + FILTER_RANGE,
                        start_date=start,
                        end_date=end,
                        display_format="YYYY-MM-DD",
                        clearable=True,
                        className="dash-filter-range",
                    ),
                ],
                className="dash-filter" + ("" if period == CUSTOM else " d-none"),
                id=prefix + FILTER_RANGE + "-wrap",
            ),
            _choice_filter(
                _("Branch"),
                prefix + FILTER_BRANCH,
                options.get("branch", []),
                filters.get("branch"),
                _("All branches"),
            ),
            _choice_filter(
                _("Product"),
                prefix + FILTER_PRODUCT,
                options.get("product", []),
                filters.get("product"),
                _("All products"),
            ),
        ],
        className="dash-filters",
    )


def filters_from_inputs(period, start, end, branch, product) -> dict:
    """Return the raw filters dict for the bar's values (validated by the service)."""
    filters: dict = {}
    if period == CUSTOM:
        if start and end:
            filters["period"] = {"start": str(start)[:10], "end": str(end)[:10]}
    elif period:
        filters["period"] = period
    if branch:
        filters["branch"] = branch
    if product:
        filters["product"] = product
    return filters


LIST_CONTAINER = "dash-list"
LIST_NAV = "dash-list-nav"
LIST_STATUS = "dash-list-status"
LIST_NEW = "dash-list-new"
LIST_NEW_MODAL = "dash-list-new-modal"
LIST_CREATE = "dash-list-create"
LIST_CREATE_TITLE = "dash-list-create-title"
LIST_CREATE_FEEDBACK = "dash-list-create-feedback"
LIST_DELETE_KEY = "dash-list-delete-key"
LIST_DELETE_MODAL = "dash-list-delete-modal"
LIST_DELETE_NAME = "dash-list-delete-name"
LIST_DELETE_CONFIRM = "dash-list-delete-confirm"
LIST_DUPLICATE = "dash-list-duplicate"
LIST_DELETE = "dash-list-delete"


def dashboard_cards(items: list[dict], locale: str | None) -> list:
    """Return the list page's cards: title, owner, charts, badges and actions."""
    if not items:
        return [
            html.Div(
                [
                    html.I(className="bi bi-speedometer2 dash-empty-icon"),
                    html.Div(_("No dashboards yet. Create one to start."), className="mt-2"),
                ],
                className="dash-empty",
            )
        ]
    cards = []
    for item in items:
        badges = []
        if item["mine"]:
            badges.append(dbc.Badge(_("Mine"), color="primary", className="me-1"))
        else:
            badges.append(dbc.Badge(_("Shared with me"), color="info", className="me-1"))
        if item["published"]:
            badges.append(dbc.Badge(_("Published"), color="success", className="me-1"))
        actions = [
            dbc.Button(
                [html.I(className="bi bi-copy me-1"), _("Duplicate")],
                id={"type": LIST_DUPLICATE, "key": item["key"]},
                size="sm",
                color="light",
                className="me-1",
                n_clicks=0,
            )
        ]
        if item["can_edit"]:
            actions.insert(
                0,
                dbc.Button(
                    [html.I(className="bi bi-pencil me-1"), _("Edit")],
                    href=f"/dashboards/{item['key']}/edit",
                    size="sm",
                    color="light",
                    className="me-1",
                ),
            )
        if item["can_manage"]:
            actions.append(
                dbc.Button(
                    [html.I(className="bi bi-trash me-1"), _("Delete")],
                    id={"type": LIST_DELETE, "key": item["key"]},
                    size="sm",
                    color="light",
                    className="text-danger",
                    n_clicks=0,
                )
            )
        updated = format_time(item["updated_at"])
        cards.append(
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(badges, className="mb-1"),
                            html.A(
                                item["title"],
                                href=f"/dashboards/{item['key']}",
                                className="dash-card-title stretched-link-off",
                            ),
                            html.Div(item["description"], className="dash-card-desc"),
                            html.Div(
                                [
                                    html.Span(
                                        [html.I(className="bi bi-person me-1"), item["owner"]],
                                        className="me-3",
                                    ),
                                    html.Span(
                                        [
                                            html.I(className="bi bi-bar-chart me-1"),
                                            _("%(n)d charts", n=item["charts"]),
                                        ],
                                        className="me-3",
                                    ),
                                    html.Span([html.I(className="bi bi-clock me-1"), updated]),
                                ],
                                className="dash-card-meta",
                            ),
                            html.Div(actions, className="dash-card-actions"),
                        ]
                    ),
                    className="dash-card h-100",
                ),
                xs=12,
                md=6,
                xl=4,
            )
        )
    return cards


SHARE_MODAL = "dash-share-modal"
SHARE_TARGET = "dash-share-target"
SHARE_PERMISSION = "dash-share-permission"
SHARE_SUBMIT = "dash-share-submit"
SHARE_LIST = "dash-share-list"
SHARE_REMOVE = "dash-share-remove"
SHARE_PUBLISH = "dash-share-publish"
SHARE_FEEDBACK = "dash-share-feedback"


def share_modal() -> dbc.Modal:
    """Return the share dialog (filled when opened): people, groups or roles, view or edit."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Share this dashboard"))),
            dbc.ModalBody(
                [
                    dbc.Label(_("Share with")),
                    dcc.Dropdown(
                        id=SHARE_TARGET,
                        options=[],
                        placeholder=_("Choose a person, a group or a role"),
                    ),
                    dbc.RadioItems(
                        id=SHARE_PERMISSION,
                        options=[
                            {"label": _("Can view"), "value": "view"},
                            {"label": _("Can edit"), "value": "edit"},
                        ],
                        value="view",
                        inline=True,
                        className="mt-2",
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-share me-1"), _("Share")],
                        id=SHARE_SUBMIT,
                        color="primary",
                        size="sm",
                        className="mt-2",
                        n_clicks=0,
                    ),
                    html.Div(id=SHARE_FEEDBACK, className="mt-2"),
                    html.Hr(),
                    html.Div(_("Shared with"), className="fw-semibold mb-1"),
                    html.Div(id=SHARE_LIST),
                    html.Hr(),
                    dbc.Switch(
                        id=SHARE_PUBLISH,
                        label=_("Published: every logged-in user can view it"),
                        value=False,
                    ),
                ]
            ),
        ],
        id=SHARE_MODAL,
        is_open=False,
    )


def share_rows(shares: list[dict]) -> list:
    """Return the list of current shares, each with a remove button."""
    if not shares:
        return [html.Div(_("Nobody yet."), className="text-muted small")]
    names = {"view": _("Can view"), "edit": _("Can edit")}
    return [
        html.Div(
            [
                html.Span(share["name"], className="me-2"),
                dbc.Badge(
                    names.get(share["permission"], share["permission"]),
                    color="light",
                    text_color="dark",
                    className="me-2",
                ),
                dbc.Button(
                    html.I(className="bi bi-x-lg"),
                    id={"type": SHARE_REMOVE, "grant": share["id"]},
                    size="sm",
                    color="link",
                    className="text-danger p-0 ms-auto",
                    title=_("Remove"),
                    n_clicks=0,
                ),
            ],
            className="dash-share-row",
        )
        for share in shares
    ]


EDIT_REMOVE = "dash-edit-remove"


def editor_items(
    charts: list[dict], titles: dict[str, str], bodies: dict[str, list]
) -> list[tuple]:
    """Return the editor grid's items: (chart id, preview card, drag-handle text).

    The previews are rendered in place (`bodies`, one per chart id): the drag-and-resize
    grid keeps its items' elements, so a preview filled later by a callback would not show.
    """
    labels = type_labels()
    items = []
    for chart in charts:
        tools = html.Div(
            [
                html.Span(
                    [html.I(className=f"bi {ICONS[chart['type']]} me-1"), labels[chart["type"]]],
                    className="dash-chart-kind",
                ),
                dbc.Button(
                    [html.I(className="bi bi-trash me-1"), _("Remove")],
                    id={"type": EDIT_REMOVE, "chart": chart["id"]},
                    size="sm",
                    color="link",
                    className="text-danger p-0 ms-auto dash-edit-remove",
                    n_clicks=0,
                ),
            ],
            className="dash-edit-tools",
        )
        body = html.Div(
            [
                tools,
                html.Div(
                    bodies.get(chart["id"], []),
                    className="dash-chart-body",
                    **{"data-chart": chart["id"]},
                ),
            ],
            className=f"dash-chart-card dash-edit-card dash-chart-{chart['type']}",
        )
        items.append((chart["id"], body, "⠿ " + titles.get(chart["id"], chart["id"])))
    return items


EDIT_KEY = "dash-edit-key"
EDIT_SPEC = "dash-edit-spec"
EDIT_GRID = "dash-edit-grid"
EDIT_GRID_WRAP = "dash-edit-grid-wrap"
EDIT_TITLE = "dash-edit-title"
EDIT_SAVE = "dash-edit-save"
EDIT_STATUS = "dash-edit-status"
EDIT_FILTER_PREFIX = "edit-"
FORM_TYPE = "dash-form-type"
FORM_METRIC = "dash-form-metric"
FORM_DIMENSION = "dash-form-dimension"
FORM_SERIES = "dash-form-series"
FORM_PERIOD = "dash-form-period"
FORM_TOP = "dash-form-top"
FORM_TITLE = "dash-form-title"
FORM_ADD = "dash-form-add"
FORM_FEEDBACK = "dash-form-feedback"


def editor_grid(spec: dict, catalog, locale: str, bodies: dict[str, list]) -> list:
    """Return the drag-and-resize grid of the draft's charts, with a hint when it is empty.

    The grid is always there (even empty) so that callbacks can read its layout.
    """
    titles = {c["id"]: chart_title(c, catalog, locale) for c in spec["charts"]}
    children = []
    if not spec["charts"]:
        children.append(
            html.Div(
                [
                    html.I(className="bi bi-plus-square-dotted dash-empty-icon"),
                    html.Div(_("Add a chart with the form to start."), className="mt-2"),
                ],
                className="dash-empty",
            )
        )
    children.append(
        widget_grid(
            EDIT_GRID,
            editor_items(spec["charts"], titles, bodies),
            {c["id"]: c["layout"] for c in spec["charts"]},
            True,
        )
    )
    return children
