"""The data mining index (/mining): the four customer-mining scenarios and bring your own data."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_babel import gettext as _

from pages.mining_charts import fmt_num
from portal.services import mining_pages as M

dash.register_page(__name__, path="/mining", title=lambda **_kw: _("Data mining"), name="Mining")


def _scenario_card(name: str) -> dbc.Col:
    meta = M.latest_meta(name)
    if meta is None:
        status = html.Div(
            [html.I(className="bi bi-hourglass me-1"), _("No model trained yet")],
            className="mining-card-status text-muted",
        )
    else:
        metrics = meta.get("metrics", {})
        status = html.Div(
            [
                html.Span(
                    _("AUC %(auc)s", auc=fmt_num(metrics.get("auc"))), className="badge-metric"
                ),
                html.Span(
                    _(
                        "Top-decile lift %(lift)s",
                        lift=fmt_num(metrics.get("top_decile_lift"), "{:.1f}"),
                    ),
                    className="badge-metric",
                ),
                html.Span(
                    _("Model v%(version)s", version=meta.get("version")), className="text-muted"
                ),
            ],
            className="mining-card-status",
        )
    return dbc.Col(
        html.A(
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            html.I(className=f"bi bi-{M.ICONS[name]}"), className="mining-icon"
                        ),
                        html.H5(M.scenario_title(name), className="mining-card-title"),
                        html.P(M.scenario_summary(name), className="mining-card-text"),
                        status,
                    ]
                ),
                className="mining-card mining-scenario-card h-100",
            ),
            href=f"/mining/{name}",
            className="mining-card-link",
            id=f"mining-card-{name}",
        ),
        xs=12,
        md=6,
        xl=3,
        className="mb-3",
    )


def layout(**_kwargs):
    upload = dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        html.Div(
                            html.I(className="bi bi-file-earmark-spreadsheet"),
                            className="mining-icon",
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        [
                            html.H5(_("Bring your own data"), className="mining-card-title"),
                            html.P(
                                _(
                                    "Upload a CSV or Excel file, join it to the bank's customers "
                                    "and run the same mining on it: cross-validated AUC, lift, "
                                    "feature importance and a scored list."
                                ),
                                className="mining-card-text mb-0",
                            ),
                        ]
                    ),
                    dbc.Col(
                        dbc.Button(
                            [html.I(className="bi bi-upload me-1"), _("Upload a file")],
                            href="/mining/upload",
                            color="primary",
                            id="mining-upload-link",
                        ),
                        xs=12,
                        md="auto",
                        className="mt-2 mt-md-0",
                    ),
                ],
                align="center",
            )
        ),
        className="mining-card mb-3",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H4(_("Data mining"), className="page-title mb-0"),
                    html.Div(
                        _(
                            "Customer analyses trained on the warehouse, each with its method, "
                            "its accuracy and a customer list you can export and share."
                        ),
                        className="text-muted small",
                    ),
                ],
                className="page-header",
            ),
            dbc.Row([_scenario_card(name) for name in M.SCENARIOS], className="g-3"),
            upload,
        ],
        className="mining-page",
    )
