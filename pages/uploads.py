"""Bring your own data (/mining/upload, Excel 融合分析): upload a CSV or Excel file, preview
it with the inferred column types, join it to warehouse customers and mine it.

The path is also matched by /mining/<scenario>; that page hands this one the request.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _
from flask_login import current_user

from components.formatting import format_time
from pages.mining_charts import job_controls, page_heading
from portal.db import get_db
from portal.services import uploads as U

dash.register_page(
    __name__, path="/mining/upload", title=lambda **_kw: _("Bring your own data"), name="Upload"
)


def _options(selected_key: str | None = None) -> tuple[list[dict], int | None]:
    with get_db().session() as s:
        resources = U.list_uploads(s, current_user)
    options = [
        {
            "label": f"{r.title_zh} · {(r.spec or {}).get('rows', 0):,} "
            + _("rows")
            + f" · {format_time(r.created_at)}",
            "value": r.id,
        }
        for r in resources
    ]
    chosen = next((r.id for r in resources if r.key == selected_key), None)
    return options, chosen if chosen is not None else (options[0]["value"] if options else None)


def layout(id=None, **_kwargs):  # noqa: A002 - the query parameter's name
    options, chosen = _options(id)
    limit_mb = U.max_upload_bytes() / 1024 / 1024
    upload = dcc.Upload(
        id="up-file",
        children=html.Div(
            [
                html.I(className="bi bi-cloud-arrow-up upload-icon"),
                html.Div(_("Drag a CSV or Excel file here, or click to choose one")),
                html.Div(
                    _(
                        "CSV in UTF-8 or GBK (comma, semicolon or tab), or .xlsx; "
                        "at most %(size)s MB.",
                        size=f"{limit_mb:g}",
                    ),
                    className="small text-muted",
                ),
            ]
        ),
        multiple=False,
        max_size=-1,
        className="upload-drop",
        accept=".csv,.txt,.tsv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    mining_form = dbc.Card(
        dbc.CardBody(
            [
                html.Div(_("Mine this dataset"), className="mining-chart-title"),
                html.P(
                    _(
                        "Choose the yes/no column to predict. The same pipeline as the bank's "
                        "models is cross-validated on your rows: identifiers and free text are "
                        "dropped, numbers and categories encoded, gradient-boosted trees fitted."
                    ),
                    className="small text-muted",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(_("Target column"), html_for="up-target"),
                                dcc.Dropdown(id="up-target", placeholder=_("Choose a column")),
                            ],
                            xs=12,
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(_("Leave out"), html_for="up-drop"),
                                dcc.Dropdown(
                                    id="up-drop",
                                    multi=True,
                                    placeholder=_("Columns that leak the outcome"),
                                ),
                            ],
                            xs=12,
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(_("Join warehouse customers on"), html_for="up-join"),
                                dcc.Dropdown(id="up-join", placeholder=_("No join")),
                            ],
                            xs=12,
                            md=4,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                job_controls(
                    dbc.Button(
                        [html.I(className="bi bi-play-fill me-1"), _("Run mining")],
                        id="up-run",
                        color="primary",
                    ),
                    "up-progress",
                    "up-run-msg",
                    "mining-retrain justify-content-start",
                ),
            ]
        ),
        className="mining-card mb-3",
        id="up-mining-card",
    )
    return html.Div(
        [
            dcc.Store(id="up-job"),
            dcc.Interval(id="up-poll", interval=1000, disabled=True),
            html.Div(
                page_heading(
                    "file-earmark-spreadsheet",
                    _("Bring your own data"),
                    _(
                        "Your uploads are private datasets: only you see them unless you "
                        "share them."
                    ),
                ),
                className="page-header",
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        upload,
                        dcc.Loading(html.Div(id="up-msg", className="mt-2"), type="dot"),
                        dbc.Row(
                            [
                                dbc.Col(
                                    dbc.Label(_("Dataset"), html_for="up-select"), width="auto"
                                ),
                                dbc.Col(
                                    dcc.Dropdown(
                                        id="up-select",
                                        options=options,
                                        value=chosen,
                                        placeholder=_("No uploads yet"),
                                        clearable=False,
                                    )
                                ),
                                dbc.Col(
                                    dcc.ConfirmDialogProvider(
                                        dbc.Button(
                                            [html.I(className="bi bi-trash me-1"), _("Delete")],
                                            color="danger",
                                            outline=True,
                                            size="sm",
                                        ),
                                        id="up-delete",
                                        message=_(
                                            "Delete this dataset and its mining results? "
                                            "This cannot be undone."
                                        ),
                                    ),
                                    width="auto",
                                ),
                            ],
                            className="g-2 mt-2",
                            align="center",
                        ),
                    ]
                ),
                className="mining-card mb-3",
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(_("Preview"), className="mining-chart-title"),
                        html.Div(id="up-info"),
                        dag.AgGrid(
                            id="up-preview",
                            rowData=[],
                            columnDefs=[],
                            defaultColDef={"resizable": True, "sortable": True, "minWidth": 110},
                            dashGridOptions={
                                "animateRows": False,
                                "overlayNoRowsTemplate": _(
                                    "Upload a file or choose a dataset to see its first rows."
                                ),
                            },
                            style={"height": "360px", "width": "100%"},
                            className="mining-grid",
                        ),
                    ]
                ),
                className="mining-card mb-3",
            ),
            mining_form,
            dcc.Loading(html.Div(id="up-results"), type="dot", color="#1f5fa8"),
            dcc.Download(id="up-download"),
        ],
        className="mining-page",
    )
