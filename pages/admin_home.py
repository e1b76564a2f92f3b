"""Home page administration (/admin/home): quick-entry tiles and announcements.

System administrators only; everyone else gets a clear message (and the callbacks check the
role again on the server).
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _
from flask_login import current_user

from components.admin_home import ADMIN_IDS as IDS
from components.admin_home import (
    announcement_list,
    audience_options,
    level_labels,
    tile_rows,
)

dash.register_page(
    __name__, path="/admin/home", title=lambda **_kw: _("Home page administration"), name="Admin"
)


def _tile_columns() -> list[dict]:
    text = {"editable": True, "resizable": True}
    return [
        {"field": "key", "headerName": _("Key"), "editable": False, "pinned": "left", "width": 140},
        {"field": "title_zh", "headerName": _("Chinese title"), **text},
        {"field": "title_en", "headerName": _("English title"), **text},
        {"field": "url", "headerName": _("Address"), **text, "width": 220},
        {"field": "sso", "headerName": _("Single sign-on"), "editable": True, "width": 120,
         "cellDataType": "boolean"},
        {"field": "icon", "headerName": _("Icon"), **text, "width": 130},
        {"field": "order", "headerName": _("Order"), **text, "width": 90, "cellDataType": "number"},
        {"field": "new_until", "headerName": _("'New' until"), **text, "width": 130},
        {"field": "roles", "headerName": _("Roles"), **text},
        {"field": "groups", "headerName": _("Groups"), **text},
        {"field": "branches", "headerName": _("Branches"), **text},
        {"field": "disabled", "headerName": _("Disabled"), "editable": True, "width": 100,
         "cellDataType": "boolean"},
    ]  # fmt: skip


def layout(**_kwargs):
    """Return the administration page (or a refusal for non-administrators)."""
    if not current_user.has_role("admin"):
        return dbc.Alert(
            _("Only a system administrator may manage the home page."),
            color="warning",
            className="mt-3",
        )
    roles, groups, branches = audience_options()
    return html.Div(
        [
            html.H1(_("Home page administration"), className="page-title h3 mb-3"),
            dbc.Tabs(
                [
                    dbc.Tab(
                        [
                            html.P(
                                _(
                                    "Lists are comma-separated codes; an empty list does not "
                                    "restrict. A branch includes its sub-branches."
                                ),
                                className="small text-muted mt-3",
                            ),
                            dag.AgGrid(
                                id=IDS["tiles"],
                                rowData=tile_rows(),
                                columnDefs=_tile_columns(),
                                defaultColDef={"minWidth": 90},
                                dashGridOptions={
                                    "singleClickEdit": True,
                                    "stopEditingWhenCellsLoseFocus": True,
                                },
                                getRowId="params.data.key",
                                style={"height": "460px"},
                                className="ag-theme-alpine",
                            ),
                            html.Div(
                                [
                                    dbc.Input(
                                        id=IDS["new_key"],
                                        placeholder=_("New tile key, e.g. crm"),
                                        size="sm",
                                        style={"maxWidth": "16rem"},
                                    ),
                                    dbc.Button(
                                        _("Add tile"), id=IDS["add"], size="sm", outline=True
                                    ),
                                    dbc.Button(
                                        _("Save changes"),
                                        id=IDS["save"],
                                        size="sm",
                                        color="primary",
                                    ),
                                ],
                                className="d-flex gap-2 mt-2",
                            ),
                            html.Div(id=IDS["tiles_feedback"], className="mt-2"),
                        ],
                        label=_("Quick entry"),
                        tab_id="tiles",
                    ),
                    dbc.Tab(
                        [
                            dbc.Row(
                                [
                                    dbc.Col(
                                        [
                                            dbc.Label(_("Chinese title")),
                                            dbc.Input(id=IDS["a_title_zh"], maxLength=200),
                                            dbc.Label(_("English title"), className="mt-2"),
                                            dbc.Input(id=IDS["a_title_en"], maxLength=200),
                                            dbc.Label(_("Text"), className="mt-2"),
                                            dbc.Textarea(id=IDS["a_body"], maxLength=5000, rows=4),
                                            dbc.Label(_("Level"), className="mt-2"),
                                            dbc.Select(
                                                id=IDS["a_level"],
                                                value="info",
                                                options=[
                                                    {"label": label, "value": level}
                                                    for level, label in level_labels().items()
                                                ],
                                            ),
                                        ],
                                        md=6,
                                    ),
                                    dbc.Col(
                                        [
                                            dbc.Label(_("Roles")),
                                            dcc.Dropdown(
                                                id=IDS["a_roles"], options=roles, multi=True
                                            ),
                                            dbc.Label(_("Groups"), className="mt-2"),
                                            dcc.Dropdown(
                                                id=IDS["a_groups"], options=groups, multi=True
                                            ),
                                            dbc.Label(_("Branches"), className="mt-2"),
                                            dcc.Dropdown(
                                                id=IDS["a_branches"], options=branches, multi=True
                                            ),
                                            dbc.Label(
                                                _("Shown until (optional)"), className="mt-2"
                                            ),
                                            dbc.Input(id=IDS["a_ends"], type="date"),
                                            dbc.Button(
                                                _("Publish"),
                                                id=IDS["publish"],
                                                color="primary",
                                                className="mt-3",
                                            ),
                                        ],
                                        md=6,
                                    ),
                                ],
                                className="mt-3",
                            ),
                            html.Div(id=IDS["a_feedback"], className="mt-2"),
                            html.H2(_("Current announcements"), className="h6 mt-4"),
                            html.Div(announcement_list(), id=IDS["a_list"]),
                        ],
                        label=_("Announcements"),
                        tab_id="announcements",
                    ),
                ],
                active_tab="tiles",
            ),
        ],
        className="admin-home-page",
    )
