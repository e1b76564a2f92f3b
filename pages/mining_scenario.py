"""One mining scenario (/mining/<scenario>): the method, the latest model's accuracy and
charts, retraining in the background, and the customer list (filter, export, share).

`/mining/upload` (bring your own data) shares the path pattern; it is served by the uploads
page.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _

from pages.mining_charts import (
    calibration_figure,
    chart_card,
    chart_row,
    error_alert,
    fmt_num,
    importance_figure,
    job_controls,
    lift_figure,
    lift_tile,
    metric_tile,
    page_heading,
    precision_tile,
    tile_row,
)
from portal.services import mining_pages as M


def _title(scenario=None, **_kw):
    if scenario == "upload":
        return _("Bring your own data")
    if scenario in M.SCENARIOS:
        return M.scenario_title(scenario)
    return _("Data mining")


dash.register_page(
    __name__, path_template="/mining/<scenario>", title=_title, name="Mining scenario"
)


def _header(name: str, meta: dict | None, saved: dict | None = None) -> html.Div:
    if meta:
        data = meta.get("training_data", {})
        version = _(
            "Model v%(version)s · trained %(when)s · data as of %(as_of)s",
            version=meta.get("version"),
            when=str(meta.get("created_at", ""))[:10],
            as_of=data.get("as_of", "—"),
        )
    else:
        version = _("No model trained yet")
    allowed = M.can_retrain()
    retrain = job_controls(
        dbc.Button(
            [html.I(className="bi bi-arrow-repeat me-1"), _("Retrain")],
            id="mn-retrain",
            color="primary",
            outline=bool(meta),
            disabled=not allowed,
            title=""
            if allowed
            else _("Only head-office analysts and leaders may retrain the bank's models."),
        ),
        "mn-progress",
        "mn-train-msg",
    )
    return html.Div(
        [
            html.Div(
                [
                    *page_heading(M.ICONS[name], M.scenario_title(name), M.scenario_summary(name)),
                    html.Div(
                        [
                            html.Span(
                                [html.I(className="bi bi-bookmark me-1"), saved["title"]],
                                className="mining-saved-title me-2",
                            ),
                            M.star(saved["id"]),
                        ],
                        className="mining-saved mt-1",
                    )
                    if saved
                    else None,
                    html.Div(version, className="mining-version small", id="mn-version"),
                ],
                className="mining-heading",
            ),
            retrain,
        ],
        className="page-header mining-header",
    )


def _metrics(meta: dict) -> dbc.Row:
    m, base = meta.get("metrics", {}), meta.get("baseline", {})
    test = meta.get("training_data", {}).get("test", {})
    tiles = [
        metric_tile(
            _("AUC (hold-out)"),
            fmt_num(m.get("auc")),
            _("logistic baseline %(auc)s", auc=fmt_num(base.get("auc"))),
        ),
        precision_tile(m, m.get("base_rate")),
        lift_tile(m),
        metric_tile(
            _("Hold-out customers"),
            f"{int(test.get('rows') or 0):,}",
            _(
                "month-end %(cutoff)s, %(positives)s positive",
                cutoff=meta.get("training_data", {}).get("test_cutoff", "—"),
                positives=f"{int(test.get('positives') or 0):,}",
            ),
        ),
    ]
    return tile_row(tiles)


def _method(name: str) -> dbc.Accordion:
    return dbc.Accordion(
        dbc.AccordionItem(
            [html.P(p, className="mining-method-text") for p in M.method_paragraphs(name)],
            title=_("How this analysis works"),
            item_id="method",
        ),
        active_item="method",
        className="mb-3 mining-method",
        id="mn-method",
    )


def _model_charts(meta: dict) -> dbc.Row:
    return chart_row(
        chart_card(
            _("Lift chart"),
            lift_figure(meta.get("lift") or []),
            _("Bars: how many times the average rate; line: share of cases found."),
        ),
        chart_card(_("Calibration"), calibration_figure(meta.get("calibration") or [])),
        chart_card(
            _("Feature importance"),
            importance_figure(meta.get("importance") or [], label=M.feature_label),
        ),
    )


def _list_section(name: str, saved: dict | None) -> dbc.Card:
    saved = saved or {}
    segments = [{"label": M.segment_label(s), "value": s} for s in M.SEGMENTS]
    tops = [{"label": _("Top %(count)d", count=n), "value": n} for n in M.TOP_CHOICES]
    filters = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="mn-f-branch",
                    multi=True,
                    placeholder=_("All branches"),
                    value=saved.get("branches") or [],
                ),
                xs=12,
                md=4,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="mn-f-segment",
                    options=segments,
                    multi=True,
                    placeholder=_("All segments"),
                    value=saved.get("segments") or [],
                ),
                xs=12,
                md=3,
            ),
            dbc.Col(
                dbc.InputGroup(
                    [
                        dbc.InputGroupText(_("Score at least")),
                        dbc.Input(
                            id="mn-f-min",
                            type="number",
                            min=0,
                            max=1,
                            step=0.01,
                            value=saved.get("min_score") or 0,
                        ),
                    ],
                    size="sm",
                ),
                xs=6,
                md=3,
            ),
            dbc.Col(
                dbc.Select(
                    id="mn-f-top",
                    options=tops,
                    value=saved.get("top") or M.TOP_CHOICES[1],
                    size="sm",
                ),
                xs=6,
                md=2,
            ),
        ],
        className="g-2 mb-2 mining-filters",
    )
    actions = html.Div(
        [
            dbc.Button(
                [html.I(className="bi bi-filetype-csv me-1"), _("Export CSV")],
                id="mn-export-csv",
                color="secondary",
                outline=True,
                size="sm",
            ),
            dbc.Button(
                [html.I(className="bi bi-file-earmark-excel me-1"), _("Export Excel")],
                id="mn-export-xlsx",
                color="secondary",
                outline=True,
                size="sm",
            ),
            html.Div(
                dcc.Dropdown(
                    id="mn-share-groups",
                    options=M.share_groups(),
                    multi=True,
                    placeholder=_("Share with my groups (optional)"),
                ),
                className="mining-share-groups",
            ),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id="mn-list-title",
                        placeholder=_("List name"),
                        value=saved.get("title") or "",
                        maxLength=120,
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-share me-1"), _("Save and share")],
                        id="mn-share",
                        color="primary",
                    ),
                ],
                size="sm",
                className="mining-share",
            ),
            dcc.Download(id="mn-download"),
        ],
        className="mining-actions",
    )
    grid = dag.AgGrid(
        id="mn-grid",
        rowData=[],
        columnDefs=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 100},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 20,
            "animateRows": False,
            "overlayNoRowsTemplate": _("No customers match."),
        },
        style={"height": "560px", "width": "100%"},
        className="mining-grid",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Div(_("Customer list"), className="mining-chart-title"),
                        html.Div(id="mn-list-summary", className="small text-muted"),
                    ],
                    className="mb-2",
                ),
                filters,
                actions,
                html.Div(id="mn-share-msg"),
                html.Div(id="mn-list-msg"),
                dcc.Loading(grid, type="dot", color="#1f5fa8", delay_show=200),
                html.Div(
                    _(
                        "Names and phone numbers are masked unless you hold an unmask grant; "
                        "you see only the customers of the branches you may see."
                    ),
                    className="small text-muted mt-2",
                ),
            ]
        ),
        className="mining-card mb-3",
    )


def layout(scenario=None, list=None, **_kwargs):  # noqa: A002 - the query parameter's name
    if scenario == "upload":
        return dash.page_registry["pages.uploads"]["layout"](**_kwargs)
    if scenario not in M.SCENARIOS:
        return html.Div(
            [
                error_alert(_("Unknown mining scenario: %(name)s.", name=scenario)),
                dcc.Link(_("Back to data mining"), href="/mining"),
            ]
        )
    meta = M.latest_meta(scenario)
    stores = [
        dcc.Store(id="mn-scenario", data=scenario),
        dcc.Store(id="mn-job"),
        dcc.Interval(id="mn-poll", interval=1000, disabled=True),
    ]
    saved = None
    if meta is None:
        body = [
            dbc.Alert(
                [
                    html.I(className="bi bi-info-circle me-2"),
                    _(
                        "No model has been trained for this scenario yet. Press Retrain to "
                        "train one on the warehouse; it takes a minute or so and runs in the "
                        "background."
                    ),
                ],
                color="info",
                id="mn-no-model",
            ),
            _method(scenario),
        ]
    else:
        saved = M.load_saved_list(list, scenario)
        extra_title = {
            "payroll-churn": _("Deposits at risk by branch"),
            "retail-churn": _("Deposits at risk by branch"),
            "potential-value": _("Expected upgrades by branch"),
            "transaction-mining": _("Short-term funds by destination"),
        }[scenario]
        body = [
            _metrics(meta),
            _method(scenario),
            _model_charts(meta),
            dbc.Row(
                [
                    dbc.Col(
                        chart_card(
                            _("Predicted rate by branch and segment"),
                            None,
                            _("Mean score of the customers you can see."),
                            graph_id="mn-heatmap",
                            height=380,
                        ),
                        xs=12,
                        lg=7,
                        className="mb-3",
                    ),
                    dbc.Col(
                        chart_card(extra_title, None, graph_id="mn-extra", height=380),
                        xs=12,
                        lg=5,
                        className="mb-3",
                    ),
                ],
                className="g-3",
            ),
            _list_section(scenario, saved),
        ]
    header = _header(scenario, meta, saved)
    return html.Div([*stores, header, *body], className="mining-page")
