"""The pivot page (/pivot, /pivot?id=<saved pivot>): build, run, drill, export, save, share."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from callbacks.pivot import (
    DEFAULT_SPEC,
    controls_from_spec,
    dataset_fields,
    dataset_options,
    dimension_options,
    filter_field_options,
    filter_option,
    layout_options,
    metric_options,
    op_options,
    period_options,
    share_url,
    sort_options,
    value_labels,
    value_options,
)
from components.favorite import favorite_button
from portal.db import get_db
from portal.errors import PortalError
from portal.services import saved_pivots

dash.register_page(
    __name__, path="/pivot", title=lambda **_kw: _("Pivot analysis"), name="Pivot analysis"
)


def _label(text: str, html_for: str | None = None):
    return dbc.Label(text, html_for=html_for, className="pivot-label")


def _open(key: str, loc: str) -> tuple[dict | None, str | None]:
    """Open a saved pivot for the current user: (its description, or an error message)."""
    try:
        with get_db().session() as s, s.begin():
            return saved_pivots.open_pivot(s, current_user, key, loc), None
    except PortalError as exc:
        return None, exc.message


def _header(saved: dict | None, error: str | None) -> html.Div:
    title = saved["title"] if saved else _("Pivot analysis")
    subtitle = (
        _("Saved by %(owner)s", owner=saved["owner"] or "—")
        if saved
        else _("Rows, columns, values and filters; click a value to see its detail rows.")
    )
    tools = [
        dbc.Button(
            [html.I(className="bi bi-plus-lg me-1"), _("New pivot")],
            href="/pivot",
            external_link=True,
            color="light",
            size="sm",
            className="me-2",
        )
    ]
    if saved:
        tools.insert(
            0, html.Span(favorite_button(saved["id"], saved["favorite"]), className="me-2")
        )
    share = dbc.InputGroup(
        [
            dbc.InputGroupText(html.I(className="bi bi-link-45deg")),
            dbc.Input(
                id="pivot-share-url",
                value=share_url(saved["key"]) if saved else "",
                readonly=True,
                placeholder=_("Save the pivot to get a link"),
                className="pivot-share-input",
            ),
            dbc.InputGroupText(
                dcc.Clipboard(target_id="pivot-share-url", title=_("Copy link")),
                className="pivot-copy",
            ),
        ],
        size="sm",
        className="pivot-share",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H4(title, id="pivot-title", className="page-title mb-0"),
                    html.Div(
                        [
                            subtitle,
                            dbc.Badge(
                                _("Read only"),
                                color="light",
                                text_color="secondary",
                                className="ms-2",
                            )
                            if saved and not saved["can_edit"]
                            else None,
                        ],
                        className="text-muted small",
                    ),
                ],
                className="pivot-heading",
            ),
            html.Div([*tools, share], className="pivot-tools"),
            error_box(error),
        ],
        className="page-header pivot-header",
    )


def error_box(error: str | None):
    if not error:
        return None
    return dbc.Alert(
        [
            html.I(className="bi bi-shield-exclamation me-2"),
            error,
        ],
        color="danger",
        id="pivot-open-error",
        className="mt-2 mb-0 w-100",
    )


def _builder(c: dict, loc: str) -> dbc.Card:
    fields = dataset_fields(c["dataset"], loc)
    metric_mode = c["mode"] == "metrics"
    if metric_mode:
        layout_opts = dimension_options(c["metrics"], loc)
        filter_opts = layout_opts
        names = {o["value"]: o["label"] for o in layout_opts}
    else:
        layout_opts = layout_options(fields)
        filter_opts = filter_field_options(fields)
        names = {f["id"]: f["name"] for f in fields}
    chosen_filters = [filter_option(f, names) for f in c["filters"] if isinstance(f, dict)]
    value_opts, metric_opts = value_options(fields), metric_options(loc)
    labels = value_labels(
        c["mode"],
        c["values"],
        c["metrics"],
        {o["value"]: o["label"] for o in value_opts + metric_opts},
    )

    def multi(id_, options, value, placeholder):
        return dcc.Dropdown(
            id=id_,
            options=options,
            value=value,
            multi=True,
            placeholder=placeholder,
            className="pivot-dropdown",
        )

    return dbc.Card(
        dbc.CardBody(
            [
                dbc.RadioItems(
                    id="pivot-mode",
                    options=[
                        {"label": _("Dataset columns"), "value": "dataset"},
                        {"label": _("Catalog metrics"), "value": "metrics"},
                    ],
                    value=c["mode"],
                    inline=True,
                    className="mb-2 pivot-mode",
                ),
                html.Div(
                    [
                        _label(_("Dataset"), "pivot-dataset"),
                        dcc.Dropdown(
                            id="pivot-dataset",
                            options=dataset_options(loc),
                            value=c["dataset"],
                            clearable=False,
                        ),
                        _label(_("Values")),
                        multi("pivot-values", value_opts, c["values"], _("Sum, count, ...")),
                    ],
                    id="pivot-dataset-box",
                    style={"display": "none" if metric_mode else "block"},
                ),
                html.Div(
                    [
                        _label(_("Metrics")),
                        multi("pivot-metrics", metric_opts, c["metrics"], _("Choose metrics")),
                        _label(_("Period"), "pivot-period"),
                        dcc.Dropdown(
                            id="pivot-period",
                            options=period_options(),
                            value=c["period"],
                            clearable=False,
                        ),
                    ],
                    id="pivot-metric-box",
                    style={"display": "block" if metric_mode else "none"},
                ),
                _label(_("Rows")),
                multi("pivot-rows", layout_opts, c["rows"], _("Group rows by ...")),
                _label(_("Columns")),
                multi("pivot-columns", layout_opts, c["columns"], _("Spread columns by ...")),
                _label(_("Filters")),
                multi(
                    "pivot-filters",
                    chosen_filters,
                    [o["value"] for o in chosen_filters],
                    _("No filters"),
                ),
                html.Div(
                    [
                        dcc.Dropdown(
                            id="pivot-filter-field",
                            options=filter_opts,
                            placeholder=_("Field"),
                            className="pivot-filter-field",
                        ),
                        dcc.Dropdown(
                            id="pivot-filter-op",
                            options=op_options(),
                            value="eq",
                            clearable=False,
                            className="pivot-filter-op",
                        ),
                    ],
                    className="pivot-filter-row",
                ),
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id="pivot-filter-value",
                            placeholder=_("Value (a, b, c for a list; 2026-10 for a month)"),
                        ),
                        dbc.Button(
                            [html.I(className="bi bi-funnel me-1"), _("Add")],
                            id="pivot-filter-add",
                            color="secondary",
                            outline=True,
                        ),
                    ],
                    size="sm",
                    className="mt-1",
                ),
                html.Div(id="pivot-filter-feedback", className="mt-1"),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                _label(_("Sort"), "pivot-sort"),
                                dcc.Dropdown(
                                    id="pivot-sort",
                                    options=sort_options(labels),
                                    value=c["sort"],
                                    clearable=False,
                                ),
                            ],
                            xs=8,
                        ),
                        dbc.Col(
                            [
                                _label(_("Top N"), "pivot-top"),
                                dbc.Input(
                                    id="pivot-top",
                                    type="number",
                                    min=1,
                                    max=1000,
                                    step=1,
                                    value=c["top"],
                                    placeholder=_("All"),
                                ),
                            ],
                            xs=4,
                        ),
                    ],
                    className="g-2",
                ),
                _label(_("Conditional formatting")),
                dbc.RadioItems(
                    id="pivot-format",
                    options=[
                        {"label": _("Negatives in red"), "value": "negative"},
                        {"label": _("Colour scale"), "value": "scale"},
                        {"label": _("None"), "value": "none"},
                    ],
                    value="negative",
                    inline=True,
                    className="pivot-format",
                ),
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-play-fill me-1"), _("Run")],
                            id="pivot-run",
                            color="primary",
                            className="pivot-run",
                        ),
                        dbc.Button(
                            [html.I(className="bi bi-save me-1"), _("Save")],
                            id="pivot-save-open",
                            color="secondary",
                            outline=True,
                        ),
                    ],
                    className="pivot-actions",
                ),
            ]
        ),
        className="pivot-builder",
    )


def _result_panel() -> dbc.Card:
    grid = dag.AgGrid(
        id="pivot-grid",
        columnDefs=[],
        rowData=[],
        getRowId="params.data._rid",
        defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True},
        rowClassRules={
            "pivot-row-subtotal": "params.data._level !== 0 && params.data._level !== 'total'",
            "pivot-row-total": "params.data._level === 'total'",
        },
        dashGridOptions={
            "suppressCellFocus": False,
            "enableCellTextSelection": True,
            "tooltipShowDelay": 300,
        },
        className="ag-theme-alpine pivot-grid",
        style={"height": "400px", "width": "100%"},
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Div(
                            _("Choose rows, columns and values, then press Run."),
                            id="pivot-summary",
                            className="pivot-summary",
                        ),
                        html.Div(
                            [
                                dbc.Button(
                                    [html.I(className="bi bi-file-earmark-excel me-1"), _("Excel")],
                                    id="pivot-export-xlsx",
                                    color="success",
                                    outline=True,
                                    size="sm",
                                    className="me-1",
                                ),
                                dbc.Button(
                                    [html.I(className="bi bi-filetype-csv me-1"), "CSV"],
                                    id="pivot-export-csv",
                                    color="secondary",
                                    outline=True,
                                    size="sm",
                                ),
                            ],
                            className="pivot-export",
                        ),
                    ],
                    className="pivot-result-bar",
                ),
                html.Div(id="pivot-export-feedback"),
                html.Div(id="pivot-save-feedback"),
                dcc.Loading(
                    [
                        html.Div(id="pivot-notice"),
                        html.Div(grid, id="pivot-grid-box", style={"display": "none"}),
                    ],
                    type="default",
                    color="#1f5fa8",
                    delay_show=200,
                    overlay_style={"visibility": "visible", "opacity": 0.5},
                    parent_className="pivot-loading",
                ),
                html.Div(
                    _("Click a value to see the detail rows behind it."),
                    className="text-muted small mt-2",
                ),
            ]
        ),
        className="pivot-result",
    )


def _drill_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id="pivot-drill-title")),
            dbc.ModalBody(
                [
                    html.Div(id="pivot-drill-alert"),
                    dag.AgGrid(
                        id="pivot-drill-grid",
                        columnDefs=[],
                        rowData=[],
                        defaultColDef={"resizable": True, "sortable": False},
                        className="ag-theme-alpine",
                        style={"height": "420px", "width": "100%"},
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    html.Span(id="pivot-drill-page", className="me-auto text-muted small"),
                    dbc.Button(
                        [html.I(className="bi bi-chevron-left"), _("Previous")],
                        id="pivot-drill-prev",
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                    dbc.Button(
                        [_("Next"), html.I(className="bi bi-chevron-right")],
                        id="pivot-drill-next",
                        color="secondary",
                        outline=True,
                        size="sm",
                        disabled=True,
                    ),
                ]
            ),
        ],
        id="pivot-drill-modal",
        size="xl",
        scrollable=True,
        is_open=False,
    )


def _save_modal(saved: dict | None) -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Save pivot"))),
            dbc.ModalBody(
                [
                    _label(_("Title (Chinese)"), "pivot-save-title-zh"),
                    dbc.Input(id="pivot-save-title-zh", maxLength=200),
                    _label(_("Title (English)"), "pivot-save-title-en"),
                    dbc.Input(id="pivot-save-title-en", maxLength=200),
                    dbc.Checkbox(
                        id="pivot-save-overwrite",
                        label=_("Overwrite the open pivot (otherwise save a new one)"),
                        value=False,
                        disabled=not (saved and saved.get("can_edit")),
                        className="mt-3",
                    ),
                    html.Div(
                        _("Anyone who opens the link sees only the rows they may see."),
                        className="text-muted small mt-2",
                    ),
                ]
            ),
            dbc.ModalFooter(
                dbc.Button(_("Save"), id="pivot-save-confirm", color="primary"),
            ),
        ],
        id="pivot-save-modal",
        is_open=False,
    )


def layout(id=None, dataset=None, **_kwargs):  # noqa: A002 - the ?id= of a saved pivot
    """Return the pivot page; `?id=<key>` opens a saved pivot (and records the view)."""
    loc = str(get_locale() or "zh_CN")
    saved, error = (None, None)
    if id:
        saved, error = _open(str(id)[:200], loc)
    spec = dict(DEFAULT_SPEC)
    if saved:
        spec = saved["spec"]
    elif isinstance(dataset, str) and dataset_fields(dataset, loc):
        spec = {"dataset": dataset, "rows": [], "values": [{"agg": "count"}]}
    controls = controls_from_spec(spec)
    stored = (
        {k: saved[k] for k in ("id", "key", "title", "title_zh", "title_en", "can_edit")}
        if saved
        else None
    )
    return html.Div(
        [
            _header(saved, error),
            dbc.Row(
                [
                    dbc.Col(_builder(controls, loc), xs=12, lg=4, xl=3, className="mb-3"),
                    dbc.Col(_result_panel(), xs=12, lg=8, xl=9),
                ],
                className="g-3",
            ),
            dcc.Store(id="pivot-spec"),
            dcc.Store(id="pivot-meta"),
            dcc.Store(id="pivot-saved", data=stored),
            dcc.Store(id="pivot-autorun", data=error is None),  # show a result at once
            dcc.Store(id="pivot-drill-state"),
            dcc.Download(id="pivot-download"),
            _drill_modal(),
            _save_modal(saved),
        ],
        className="pivot-page",
    )
