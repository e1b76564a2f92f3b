"""Unified search (/search, SPEC §3.1): one box over apps, reports, dashboards, pivots,
datasets and their columns, metrics, external data and questions; facets by type, domain, owner.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _

from components.search_results import SEARCH_IDS as IDS

dash.register_page(__name__, path="/search", title=lambda **_kw: _("Search"), name="Search")


def layout(q: str | None = None, type: str | None = None, **_kwargs):  # noqa: A002
    """Return the search page, pre-filled from ?q= and ?type= so results can be linked."""
    query = (q or "")[:200] if isinstance(q, str) else ""
    chosen = [t for t in (type or "").split(",") if t] if isinstance(type, str) else []
    return html.Div(
        [
            html.Div(
                [
                    html.H1(_("Search"), className="page-title h3 mb-1"),
                    html.P(
                        _(
                            "Find data, reports, dashboards, apps and metrics. Chinese, "
                            "pinyin initials (e.g. ckye) and English all work."
                        ),
                        className="text-muted small mb-3",
                    ),
                ],
                className="page-header",
            ),
            dbc.InputGroup(
                [
                    dbc.InputGroupText(html.I(className="bi bi-search")),
                    dbc.Input(
                        id=IDS["q"],
                        value=query,
                        type="search",
                        maxLength=200,
                        debounce=0.3,
                        placeholder=_("Search data, reports, apps…"),
                        autoFocus=True,
                        autoComplete="off",
                    ),
                ],
                className="search-main-box mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(_("Type"), className="facet-title"),
                            dbc.Checklist(
                                id=IDS["types"],
                                options=[],
                                value=chosen,
                                className="facet-list",
                                inputClassName="me-2",
                            ),
                            html.Div(_("Domain"), className="facet-title mt-3"),
                            dcc.Dropdown(
                                id=IDS["domain"], options=[], value=None, placeholder=_("All")
                            ),
                            html.Div(_("Owner"), className="facet-title mt-3"),
                            dcc.Dropdown(
                                id=IDS["owner"], options=[], value=None, placeholder=_("All")
                            ),
                        ],
                        md=3,
                        className="search-facets mb-3",
                    ),
                    dbc.Col(
                        [
                            html.Div(id=IDS["summary"], className="text-muted small mb-2"),
                            dcc.Loading(html.Div(id=IDS["results"]), type="dot", delay_show=300),
                            dbc.Pagination(
                                id=IDS["page"],
                                max_value=1,
                                active_page=1,
                                fully_expanded=False,
                                className="mt-3 justify-content-center",
                            ),
                            html.Div(id=IDS["request_feedback"]),
                        ],
                        md=9,
                    ),
                ]
            ),
        ],
        className="search-page",
    )
