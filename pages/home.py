"""The personal home page (/): a grid of widgets each user arranges (千人千面, SPEC §2.1)."""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.admin_home import role_options
from components.home_grid import HOME_IDS as IDS
from components.home_grid import add_widget_options, home_grid
from portal.db import get_db
from portal.services.home_layout import load_layout

dash.register_page(__name__, path="/", title=lambda **_kw: _("Bank Data Portal"), name="Home")


def _greeting(now: datetime) -> str:
    if now.hour < 11:
        return _("Good morning, %(name)s", name=current_user.display_name)
    if now.hour < 18:
        return _("Good afternoon, %(name)s", name=current_user.display_name)
    return _("Good evening, %(name)s", name=current_user.display_name)


def _edit_bar(layout: dict) -> html.Div:
    """The tools shown while customising: add a widget, restore the default, role defaults."""
    tools = [
        dbc.InputGroup(
            [
                dbc.Select(
                    id=IDS["add_choice"],
                    options=add_widget_options(layout),
                    placeholder=_("Add a widget…"),
                ),
                dbc.Button(
                    [html.I(className="bi bi-plus-lg me-1"), _("Add")],
                    id=IDS["add"],
                    color="primary",
                    outline=True,
                ),
            ],
            size="sm",
            className="home-add",
        ),
        dbc.Button(
            [html.I(className="bi bi-arrow-counterclockwise me-1"), _("Restore default")],
            id=IDS["reset"],
            color="secondary",
            outline=True,
            size="sm",
        ),
    ]
    if current_user.has_role("admin"):
        tools.append(
            dbc.InputGroup(
                [
                    dbc.Select(
                        id=IDS["role_choice"],
                        options=role_options(),
                        placeholder=_("Role…"),
                    ),
                    dbc.Button(
                        _("Save as the role's default"),
                        id=IDS["role_save"],
                        color="primary",
                        outline=True,
                    ),
                ],
                size="sm",
                className="home-role-default",
            )
        )
    return html.Div(
        [
            html.Div(
                [
                    html.I(className="bi bi-arrows-move me-2"),
                    _("Drag widgets by their handle and resize them from the corner."),
                ],
                className="small text-muted",
            ),
            html.Div(tools, className="home-edit-tools"),
        ],
        className="home-edit-bar",
    )


def layout(**_kwargs):
    """Return the home page: greeting, the user's widget grid, and the customise tools."""
    with get_db().session() as s:
        saved, source, notice = load_layout(s, current_user)
    now = datetime.now()
    return html.Div(
        [
            dcc.Store(id=IDS["layout"], data=saved),
            dcc.Store(id=IDS["editing"], data=False),
            html.Div(
                [
                    html.Div(
                        [
                            html.H1(_greeting(now), className="page-title h4 mb-0"),
                            html.Div(
                                [
                                    current_user.branch.name_en
                                    if str(get_locale() or "").startswith("en")
                                    else current_user.branch.name_zh,
                                    " · ",
                                    now.date().isoformat(),
                                ],
                                className="text-muted small",
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.Span(id=IDS["status"], className="small text-muted me-2"),
                            dbc.Button(
                                [html.I(className="bi bi-pencil-square me-1"), _("Customize")],
                                id=IDS["edit"],
                                color="primary",
                                outline=True,
                                size="sm",
                            ),
                        ],
                        className="d-flex align-items-center",
                    ),
                ],
                className="page-header d-flex justify-content-between align-items-center",
            ),
            dbc.Alert(notice, color="warning", dismissable=True, className="py-2 small")
            if notice
            else None,
            dbc.Collapse(_edit_bar(saved), id=IDS["edit_bar"], is_open=False),
            html.Div(home_grid(saved, editing=False), id=IDS["grid"]),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle(_("Arrange my tiles"))),
                    dbc.ModalBody(
                        [
                            html.P(
                                _(
                                    "Tiles show in the order chosen here; remove a tile to hide "
                                    "it, add it back to show it again."
                                ),
                                className="small text-muted",
                            ),
                            dcc.Dropdown(id=IDS["tiles_order"], multi=True, options=[], value=[]),
                            html.Div(id=IDS["tiles_feedback"], className="mt-2"),
                        ]
                    ),
                    dbc.ModalFooter(
                        dbc.Button(_("Save"), id=IDS["tiles_save"], color="primary", size="sm")
                    ),
                ],
                id=IDS["tiles_modal"],
                is_open=False,
            ),
        ],
        className="home-page",
        **{"data-layout-source": source},
    )
