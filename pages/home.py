"""The personal home page (/): KPI cards computed through the metric catalog."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from components.kpi import kpi_card

dash.register_page(__name__, path="/", title=lambda **_kw: _("Bank Data Portal"), name="Home")

# The first KPI cards of the home page; the carousel (SPEC §2.1) will make this per user.
HOME_METRICS = (
    "deposit_balance",
    "loan_balance",
    "npl_ratio",
    "customer_count",
    "ebank_penetration",
    "new_loans",
    "payroll_customers",
    "budget_attainment",
)


def layout(**_kwargs):
    """Return the home page in the user's language."""
    locale = str(get_locale() or "zh_CN")
    catalog = current_app.extensions["metric_catalog"]
    cards = [
        dbc.Col(
            kpi_card(m, catalog.metric(m).name.get(locale)),
            xs=12,
            sm=6,
            lg=4,
            xl=3,
            className="mb-3",
        )
        for m in HOME_METRICS
        if m in catalog.metrics
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.H4(_("Data overview"), className="page-title mb-0"),
                    html.Div(
                        _("This month compared with last month"), className="text-muted small"
                    ),
                ],
                className="page-header",
            ),
            dbc.Row(cards, className="g-3 kpi-grid"),
        ]
    )
