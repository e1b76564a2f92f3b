"""Questions and answers (/questions, 互助问答): ask, answer, vote, choose the best answer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _
from flask_login import current_user

from callbacks import store as ids
from portal.db import get_db
from portal.errors import PortalError
from portal.services import questions as qa

dash.register_page(__name__, path="/questions", title=lambda **_kw: _("Q&A"), name="Q&A")


def _detail(question_id: str) -> html.Div:
    try:
        with get_db().session() as s:
            question = qa.get_question(s, current_user, question_id)
            data = qa.question_dict(s, question, current_user, detail=True)
    except PortalError as exc:
        return html.Div(
            [
                dbc.Alert(exc.message, color="warning", className="mt-3"),
                html.A([html.I(className="bi bi-arrow-left me-1"), _("All questions")],
                       href="/questions"),
            ]
        )  # fmt: skip
    return html.Div(
        [
            dcc.Store(id=ids.Q_ID, data=data["id"]),
            html.Div(
                html.A(
                    [html.I(className="bi bi-arrow-left me-1"), _("All questions")],
                    href="/questions",
                ),
                className="mb-2 small",
            ),  # fmt: skip
            html.Div(id=ids.Q_FEEDBACK),
            html.Div(ids.question_detail(data), id=ids.Q_DETAIL),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H6(_("Your answer")),
                        dbc.Textarea(
                            id=ids.Q_ANSWER_TEXT, rows=4, maxLength=5000, className="mb-2"
                        ),
                        dbc.Button(_("Post answer"), id=ids.Q_ANSWER, color="primary", n_clicks=0),
                    ]
                ),
                className="mt-3",
            ),  # fmt: skip
        ],
        className="qa-page",
    )


def _ask_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6([html.I(className="bi bi-pencil-square me-2"), _("Ask a question")]),
                dbc.Input(id=ids.Q_ASK_TITLE, placeholder=_("What do you want to know?"),
                          maxLength=200, className="mb-2"),
                dbc.Textarea(id=ids.Q_ASK_BODY, rows=3, maxLength=5000,
                             placeholder=_("Details (optional)"), className="mb-2"),
                dbc.Input(id=ids.Q_ASK_INVITE,
                          placeholder=_("Invite answerers by user name, separated by commas"),
                          className="mb-2"),
                dbc.Checkbox(id=ids.Q_ASK_PUBLIC, value=True,
                             label=_("Public (otherwise only invited users and administrators see it)"),
                             className="small mb-2"),
                dbc.Button(_("Ask"), id=ids.Q_ASK, color="primary", n_clicks=0),
                html.Div(id=ids.Q_ASK_FEEDBACK, className="mt-2"),
            ]
        ),
        className="qa-ask",
    )  # fmt: skip


def layout(id: str | None = None, **_kwargs):  # noqa: A002 - the query string's name
    """Return the Q&A page (a list, or one question when ?id= is given)."""
    if id:
        return _detail(id)
    return html.Div(
        [
            dcc.Location(id=ids.Q_NAV, refresh="callback-nav"),
            html.Div(
                [
                    html.H4(_("Questions and answers"), className="page-title mb-0"),
                    html.Div(
                        _(
                            "Ask colleagues about data, reports and apps; the asker picks the best answer."
                        ),
                        className="text-muted small",
                    ),
                ],
                className="page-header",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Row(
                                [
                                    dbc.Col(
                                        dbc.Input(
                                            id=ids.Q_SEARCH,
                                            type="search",
                                            placeholder=_("Search questions"),
                                            debounce=True,
                                        ),
                                        xs=12,
                                        md=6,
                                    ),
                                    dbc.Col(
                                        dbc.Select(
                                            id=ids.Q_STATUS,
                                            options=[
                                                {"label": _("All"), "value": "all"},
                                                {"label": _("Open"), "value": "open"},
                                                {"label": _("Resolved"), "value": "resolved"},
                                            ],
                                            value="all",
                                        ),
                                        xs=6,
                                        md=3,
                                    ),
                                    dbc.Col(
                                        dbc.Checkbox(
                                            id=ids.Q_MINE, value=False, label=_("Mine only")
                                        ),
                                        xs=6,
                                        md=3,
                                        className="d-flex align-items-center",
                                    ),
                                ],
                                className="g-2 mb-2",
                            ),
                            html.Div(id=ids.Q_TOTAL, className="text-muted small mb-2"),
                            html.Div(id=ids.Q_LIST),
                            html.Div(
                                dbc.Pagination(
                                    id=ids.Q_PAGER, max_value=1, active_page=1, fully_expanded=False
                                ),
                                className="d-flex justify-content-center mt-3",
                            ),
                        ],
                        xs=12,
                        lg=8,
                    ),
                    dbc.Col(_ask_card(), xs=12, lg=4),
                ],
                className="g-3",
            ),  # fmt: skip
        ],
        className="qa-page",
    )
