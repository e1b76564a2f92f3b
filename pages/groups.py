"""Groups and the activity feed (/groups, 群组分享 and 发布动态, SPEC §6.2): my groups and their
members, creating a group, sharing a resource with users or groups, and the feed of posts with
likes and comments. Posts and comments are shown as text, never as HTML."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _

from callbacks.social import (
    FEED,
    GRP,
    SHARE,
    audience_options,
    group_detail_panel,
    group_list,
    group_options,
    shareable_resources,
    user_options,
)
from portal.services.sharing import MESSAGE_MAX, POST_MAX

dash.register_page(__name__, path="/groups", title=lambda **_kw: _("Groups"), name="Groups")


def _header(title: str, icon: str) -> dbc.CardHeader:
    return dbc.CardHeader(
        [html.I(className=f"bi bi-{icon} me-2"), title], className="social-card-header"
    )


def _groups_column() -> list:
    return [
        dbc.Card(
            [
                _header(_("My groups"), "people"),
                dbc.CardBody(
                    [
                        html.Div(group_list(), id=GRP["list"]),
                        html.Div(group_detail_panel(None), id=GRP["detail"], className="mt-3"),
                        html.Div(id=GRP["detail_alert"]),
                    ]
                ),
            ],
            className="social-card mb-3",
        ),
        dbc.Card(
            [
                _header(_("Create a group"), "plus-circle"),
                dbc.CardBody(
                    [
                        dbc.Input(
                            id=GRP["name"],
                            placeholder=_("Group name"),
                            maxLength=100,
                            className="mb-2",
                        ),
                        dbc.Textarea(
                            id=GRP["desc"],
                            placeholder=_("What is the group for? (optional)"),
                            maxLength=2000,
                            rows=2,
                            className="mb-2",
                        ),
                        dbc.Button(_("Create"), id=GRP["create"], color="primary", size="sm"),
                        html.Div(id=GRP["create_alert"]),
                    ]
                ),
            ],
            className="social-card mb-3",
        ),
    ]


def _share_card() -> dbc.Card:
    return dbc.Card(
        [
            _header(_("Share a resource"), "share"),
            dbc.CardBody(
                [
                    html.Div(
                        _("You can share what you own or manage; recipients get view access."),
                        className="small text-muted mb-2",
                    ),
                    dcc.Dropdown(
                        id=SHARE["resource"],
                        options=shareable_resources(),
                        placeholder=_("Choose a report, dashboard, app…"),
                        className="mb-2",
                    ),
                    dcc.Dropdown(
                        id=SHARE["users"],
                        options=user_options(),
                        multi=True,
                        placeholder=_("Users"),
                        className="mb-2",
                    ),
                    dcc.Dropdown(
                        id=SHARE["groups"],
                        options=group_options(),
                        multi=True,
                        placeholder=_("Groups"),
                        className="mb-2",
                    ),
                    dbc.Textarea(
                        id=SHARE["message"],
                        placeholder=_("Add a message (optional)"),
                        maxLength=MESSAGE_MAX,
                        rows=2,
                        className="mb-2",
                    ),
                    dbc.Button(_("Share"), id=SHARE["send"], color="primary", size="sm"),
                    html.Div(id=SHARE["alert"]),
                ]
            ),
        ],
        className="social-card mb-3",
    )


def _feed_column() -> list:
    composer = dbc.Card(
        dbc.CardBody(
            [
                dbc.Textarea(
                    id=FEED["text"],
                    placeholder=_("Share an insight with your colleagues…"),
                    maxLength=POST_MAX,
                    rows=3,
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            dcc.Dropdown(
                                id=FEED["audience"],
                                options=audience_options(),
                                value="public",
                                clearable=False,
                            ),
                            xs=12,
                            md=5,
                            className="mb-2 mb-md-0",
                        ),
                        dbc.Col(
                            dcc.Dropdown(
                                id=FEED["resource"],
                                options=shareable_resources(),
                                placeholder=_("Link a resource (optional)"),
                            ),
                            xs=12,
                            md=5,
                            className="mb-2 mb-md-0",
                        ),
                        dbc.Col(
                            dbc.Button(
                                [html.I(className="bi bi-send me-1"), _("Post")],
                                id=FEED["post"],
                                color="primary",
                                className="w-100",
                            ),
                            xs=12,
                            md=2,
                        ),
                    ],
                    className="g-2 align-items-center",
                ),
                html.Div(id=FEED["alert"]),
            ]
        ),
        className="social-card composer mb-3",
    )
    return [
        composer,
        dcc.Store(id=FEED["refresh"], data=0),
        dcc.Loading(html.Div(id=FEED["list"]), type="dot"),
        dbc.Pagination(
            id=FEED["page"],
            max_value=1,
            active_page=1,
            fully_expanded=False,
            size="sm",
            className="justify-content-center",
        ),
    ]


def layout(**_kwargs):
    """Return the groups page: groups on the left, the feed in the middle, sharing on the right."""
    return html.Div(
        [
            html.Div(
                [
                    html.H1(_("Groups"), className="page-title h3 mb-1"),
                    html.Div(
                        _("Work together: groups, shared resources and the team's feed."),
                        className="text-muted small",
                    ),
                ],
                className="page-header",
            ),
            dcc.Store(id=GRP["selected"], data=None),
            dbc.Row(
                [
                    # On a phone the feed comes first, then the groups, then sharing.
                    dbc.Col(
                        _groups_column(), xs={"size": 12, "order": 2}, lg={"order": 1, "size": 3}
                    ),
                    dbc.Col(
                        _feed_column(), xs={"size": 12, "order": 1}, lg={"order": 2, "size": 6}
                    ),
                    dbc.Col(_share_card(), xs={"size": 12, "order": 3}, lg={"order": 3, "size": 3}),
                ]
            ),
        ],
        className="social-page",
    )
