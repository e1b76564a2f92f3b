"""The app store (/store, 应用商城): browse listed apps, my apps, my publications, review queue."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _
from flask_login import current_user

from callbacks import store as ids
from portal.db import get_db
from portal.models.store import APP_KINDS
from portal.services import store

dash.register_page(__name__, path="/store", title=lambda **_kw: _("App store"), name="App store")


def _filters(tags: dict[str, int], categories: dict[str, int]) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dbc.InputGroup(
                    [
                        dbc.InputGroupText(html.I(className="bi bi-search")),
                        dbc.Input(
                            id=ids.SEARCH,
                            type="search",
                            placeholder=_("Search apps by name, pinyin or description"),
                            debounce=True,
                        ),
                    ]
                ),
                xs=12,
                md=5,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id=ids.CATEGORY,
                    options=[
                        {
                            "label": f"{store.category_label(c)} ({categories.get(c, 0)})",
                            "value": c,
                        }
                        for c in store.CATEGORIES
                    ],
                    placeholder=_("All categories"),
                    clearable=True,
                ),
                xs=6,
                md=2,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id=ids.TAG,
                    options=[{"label": f"#{t} ({n})", "value": t} for t, n in tags.items()],
                    placeholder=_("All tags"),
                    clearable=True,
                ),
                xs=6,
                md=2,
            ),
            dbc.Col(
                dbc.Select(
                    id=ids.SORT,
                    options=[
                        {"label": _("Newest"), "value": "newest"},
                        {"label": _("Most installed"), "value": "installs"},
                        {"label": _("Best rated"), "value": "rating"},
                        {"label": _("Most liked"), "value": "likes"},
                    ],
                    value="newest",
                ),
                xs=12,
                md=3,
            ),
        ],
        className="g-2 mb-3 store-filters",
    )


def _new_app_modal() -> dbc.Modal:
    f = ids.NEW_FIELDS
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Publish an app"))),
            dbc.ModalBody(
                [
                    html.Div(
                        _(
                            "Package an analysis for others: it is saved as a draft, and an "
                            "administrator reviews it before it is listed."
                        ),
                        className="text-muted small mb-3",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label(_("Chinese title")),
                                    dbc.Input(id=f["title_zh"], maxLength=100),
                                ],
                                md=6,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(_("English title")),
                                    dbc.Input(id=f["title_en"], maxLength=100),
                                ],
                                md=6,
                            ),
                        ],
                        className="g-2 mb-2",
                    ),  # fmt: skip
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label(_("Kind")),
                                    dbc.Select(
                                        id=f["kind"],
                                        options=[
                                            {"label": store.kind_label(k), "value": k}
                                            for k in APP_KINDS
                                        ],
                                        value="external",
                                    ),
                                ],
                                md=6,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(_("Category")),
                                    dbc.Select(
                                        id=f["category"],
                                        options=[
                                            {"label": store.category_label(c), "value": c}
                                            for c in store.CATEGORIES
                                        ],
                                        value="other",
                                    ),
                                ],
                                md=6,
                            ),
                        ],
                        className="g-2 mb-2",
                    ),
                    dbc.Label(_("What it opens")),
                    dbc.Input(
                        id=f["target_url"],
                        placeholder="/dashboards/… https://…",
                        maxLength=500,
                        className="mb-2",
                    ),  # fmt: skip
                    dbc.Label(_("Description")),
                    dbc.Textarea(id=f["description"], rows=3, maxLength=4000, className="mb-2"),
                    dbc.Label(_("Tags (separated by commas)")),
                    dbc.Input(id=f["tags"], placeholder="存款, deposit", className="mb-2"),
                    dbc.Label(_("Parameters users may change (JSON)")),
                    dbc.Textarea(
                        id=f["params"],
                        rows=2,
                        placeholder='{"branch": "HO", "months": 12}',
                        className="mb-2 font-monospace",
                    ),  # fmt: skip
                    dbc.Label(_("Preview image (optional)")),
                    dbc.Input(id=f["preview"], placeholder="/assets/… https://…", maxLength=500),
                    html.Div(id=ids.NEW_FEEDBACK, className="mt-3"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        _("Save draft"),
                        id=ids.NEW_SAVE,
                        color="secondary",
                        outline=True,
                        n_clicks=0,
                    ),
                    dbc.Button(
                        _("Save and submit for review"),
                        id=ids.NEW_SUBMIT,
                        color="primary",
                        n_clicks=0,
                    ),
                ]
            ),  # fmt: skip
        ],
        id=ids.NEW_MODAL,
        is_open=False,
        size="lg",
    )


def layout(**_kwargs):
    """Return the store in the user's language."""
    with get_db().session() as s:
        found = store.facets(s)
    tabs = [
        dbc.Tab(label=_("All apps"), tab_id="store"),
        dbc.Tab(label=_("My apps"), tab_id="installed"),
        dbc.Tab(label=_("My publications"), tab_id="mine"),
    ]
    if store.is_admin(current_user):
        tabs.append(dbc.Tab(label=_("Review queue"), tab_id="review"))
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H4(_("App store"), className="page-title mb-0"),
                            html.Div(
                                _(
                                    "Good analyses, shared and reused: install one and make it yours."
                                ),
                                className="text-muted small",
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                [html.I(className="bi bi-question-circle me-1"), _("Q&A")],
                                href="/questions",
                                color="link",
                                className="me-2",
                            ),
                            dbc.Button(
                                [html.I(className="bi bi-upload me-1"), _("Publish an app")],
                                id=ids.NEW_OPEN,
                                color="primary",
                                n_clicks=0,
                            ),
                        ],
                        className="d-flex align-items-center",
                    ),
                ],
                className="page-header store-header",
            ),
            dbc.Tabs(tabs, id=ids.TABS, active_tab="store", className="mb-3"),
            html.Div(_filters(found["tags"], found["categories"]), id=ids.FILTERS),
            html.Div(id=ids.TOTAL, className="text-muted small mb-2"),
            dcc.Loading(html.Div(id=ids.GRID, className="store-grid"), type="dot", delay_show=300),
            html.Div(
                dbc.Pagination(id=ids.PAGER, max_value=1, active_page=1, fully_expanded=False),
                className="d-flex justify-content-center mt-3",
            ),
            _new_app_modal(),
        ],
        className="store-page",
    )
