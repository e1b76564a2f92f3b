"""The message center (/messages, 消息中心, SPEC §6.3): notifications by type, unread filter,
mark read, access requests to decide, and per-type preferences."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _
from flask_login import current_user

from callbacks.social import (
    MSG,
    kind_label,
    my_requests_panel,
    pending_requests_panel,
    preference_options,
)
from portal.db import get_db
from portal.models.social import MESSAGE_KINDS
from portal.services.messages import get_preferences

dash.register_page(
    __name__, path="/messages", title=lambda **_kw: _("Message center"), name="Messages"
)


def _card(title: str, icon: str, body, extra=None) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(
                [html.I(className=f"bi bi-{icon} me-2"), title], className="social-card-header"
            ),
            dbc.CardBody([body, extra] if extra is not None else body),
        ],
        className="social-card mb-3",
    )


def layout(tab: str | None = None, request: str | None = None, **_kwargs):
    """Return the message center; ?tab=<kind> opens a tab, ?request=<id> the access requests."""
    active = tab if tab in MESSAGE_KINDS else ("access" if request else "all")
    with get_db().session() as s:
        prefs = get_preferences(s, current_user)
    tabs = [dbc.Tab(label=_("All"), tab_id="all")] + [
        dbc.Tab(label=kind_label(kind), tab_id=kind) for kind in MESSAGE_KINDS
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.H1(_("Message center"), className="page-title h3 mb-1"),
                            html.Div(
                                _("Shares, comments, answers, approvals and alerts for you."),
                                className="text-muted small",
                            ),
                        ]
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-check2-all me-1"), _("Mark all as read")],
                        id=MSG["read_all"],
                        color="outline-primary",
                        size="sm",
                    ),
                ],
                className="page-header d-flex justify-content-between align-items-start gap-2",
            ),
            dcc.Store(id=MSG["refresh"], data=0),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    dbc.Tabs(
                                        tabs,
                                        id=MSG["tabs"],
                                        active_tab=active,
                                        className="msg-tabs mb-2",
                                    ),
                                    html.Div(
                                        [
                                            dbc.Switch(
                                                id=MSG["unread"],
                                                label=_("Unread only"),
                                                value=False,
                                                className="mb-0",
                                            ),
                                            html.Div(
                                                id=MSG["summary"], className="small text-muted"
                                            ),
                                        ],
                                        className="d-flex justify-content-between "
                                        "align-items-center flex-wrap gap-2 mb-2",
                                    ),
                                    dcc.Loading(html.Div(id=MSG["list"]), type="dot"),
                                    dbc.Pagination(
                                        id=MSG["page"],
                                        max_value=1,
                                        active_page=1,
                                        fully_expanded=False,
                                        size="sm",
                                        className="mt-3 mb-0 justify-content-center",
                                    ),
                                ]
                            ),
                            className="social-card mb-3",
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            _card(
                                _("Access requests awaiting you"),
                                "key",
                                html.Div(pending_requests_panel(), id=MSG["requests"]),
                                html.Div(id=MSG["alert"]),
                            ),
                            _card(_("My access requests"), "send", my_requests_panel()),
                            _card(
                                _("Notification settings"),
                                "sliders",
                                html.Div(
                                    [
                                        html.Div(
                                            _("Receive these kinds of messages:"),
                                            className="small text-muted mb-2",
                                        ),
                                        dbc.Checklist(
                                            id=MSG["prefs"],
                                            options=preference_options(),
                                            value=[k for k, on in prefs.items() if on],
                                            switch=True,
                                        ),
                                        html.Div(id=MSG["prefs_saved"], className="small mt-2"),
                                    ]
                                ),
                            ),
                        ],
                        lg=4,
                    ),
                ]
            ),
        ],
        className="social-page",
    )
