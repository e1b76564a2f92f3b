"""One app of the store (/store/<app_id>): details, actions, my copy, review, comments, Q&A."""

from __future__ import annotations

import json

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_babel import gettext as _
from flask_login import current_user

from callbacks import store as ids
from portal.db import get_db
from portal.errors import PortalError
from portal.services import questions as qa
from portal.services import store


def _title(app_id=None, **_kw) -> str:
    return _("App store")


dash.register_page(__name__, path_template="/store/<app_id>", title=_title, name="Store app")


def _header(app: dict) -> dbc.Card:
    icon = ids.KIND_ICONS.get(app["kind"], "app")
    preview = (
        html.Img(src=app["preview"], className="store-detail-img", alt="")
        if app.get("preview")
        else html.Div(
            html.I(className=f"bi bi-{icon}"), className=f"store-detail-icon k-{app['kind']}"
        )
    )
    me = app["me"]
    author = (app.get("author") or {}).get("name", "")
    status_color = {"listed": "success", "submitted": "warning", "rejected": "danger"}.get(
        app["status"], "secondary"
    )
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(preview, xs=12, md=3, lg=2, className="mb-2"),
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    dbc.Badge(
                                        store.status_label(app["status"]),
                                        id=ids.STATUS,
                                        color=status_color,
                                        className="me-1",
                                    ),
                                    dbc.Badge(
                                        store.category_label(app["category"]),
                                        color="light",
                                        text_color="primary",
                                        className="me-1",
                                    ),
                                    dbc.Badge(
                                        store.kind_label(app["kind"]),
                                        color="light",
                                        text_color="secondary",
                                    ),
                                ],
                                className="mb-1",
                            ),  # fmt: skip
                            html.H3(app["title"], className="store-detail-title"),
                            html.Div(
                                [
                                    html.I(className="bi bi-person me-1"),
                                    author,
                                    html.Span(
                                        ids.when(app.get("listed_at") or app.get("created_at")),
                                        className="ms-3",
                                    ),
                                ],
                                className="text-muted small mb-2",
                            ),  # fmt: skip
                            html.Div(app.get("description") or "", className="store-detail-desc"),
                            html.Div(
                                [html.Span(f"#{t}", className="store-tag") for t in app["tags"]],
                                className="mb-2",
                            ),
                            html.Div(ids.stats_line(app), id=ids.STATS, className="small mb-3"),
                            html.Div(
                                [
                                    html.A(
                                        [
                                            html.I(className="bi bi-box-arrow-up-right me-1"),
                                            _("Open"),
                                        ],
                                        href=app["link"],
                                        className="btn btn-primary",
                                        id="store-app-open",
                                    ),
                                    html.Button(
                                        ids.install_content(
                                            bool(me["install_id"]), app["install_count"]
                                        ),
                                        id=ids.INSTALL,
                                        n_clicks=0,
                                        className="btn btn-success",
                                        disabled=app["status"] != "listed",
                                    ),
                                    html.Button(
                                        ids.like_button(me["liked"], app["like_count"]),
                                        id=ids.LIKE,
                                        n_clicks=0,
                                        className="btn btn-outline-primary"
                                        + (" active" if me["liked"] else ""),
                                        disabled=app["status"] != "listed",
                                    ),
                                    html.Button(
                                        ids.favorite_content(me["favorite"], app["favorite_count"]),
                                        id=ids.FAVORITE,
                                        n_clicks=0,
                                        className="btn btn-outline-warning"
                                        + (" active" if me["favorite"] else ""),
                                        disabled=app["status"] != "listed",
                                    ),
                                ],
                                className="store-actions",
                            ),  # fmt: skip
                            html.Div(
                                [
                                    html.Span(_("Your rating:"), className="me-2 small text-muted"),
                                    *[
                                        html.Button(
                                            html.I(className="bi bi-star-fill"),
                                            id={"type": ids.STAR, "n": n},
                                            className=cls,
                                            n_clicks=0,
                                            title=_("%(n)d stars", n=n),
                                            disabled=me["is_author"] or app["status"] != "listed",
                                        )
                                        for n, cls in enumerate(ids.star_classes(me["stars"]), 1)
                                    ],
                                ],
                                className="store-rating mt-2",
                            ),
                        ],
                        xs=12,
                        md=9,
                        lg=10,
                    ),
                ]
            )
        ),
        className="store-detail mb-3",
    )


def _author_panel(app: dict, stats: dict) -> dbc.Card:
    items = [
        (_("Installs"), stats["install_count"]),
        (_("Views"), stats["view_count"]),
        (_("Views after install"), stats["views_after_install"]),
        (_("Likes"), stats["like_count"]),
        (_("Favorites"), stats["favorite_count"]),
        (_("Ratings"), stats["rating_count"]),
    ]
    body = [
        html.H6([html.I(className="bi bi-bar-chart me-2"), _("App usage")]),
        dbc.Row(
            [
                dbc.Col(
                    html.Div([html.Div(str(v), className="store-stat-value"),
                              html.Div(label, className="store-stat-label")],
                             className="store-stat"),
                    xs=4, md=2,
                )
                for label, v in items
            ],
            className="g-2",
        ),
    ]  # fmt: skip
    if app.get("review_reason") and app["status"] in ("rejected", "unlisted"):
        body.append(
            dbc.Alert(
                _("Reviewer's note: %(reason)s", reason=app["review_reason"]),
                color="warning",
                className="mt-3 mb-0 py-2",
            )  # fmt: skip
        )
    if app["me"]["is_author"] and app["status"] in ("draft", "rejected"):
        body.append(_draft_editor(app))
        body.append(
            dbc.Button(
                [html.I(className="bi bi-send me-1"), _("Submit for review")],
                id=ids.SUBMIT,
                color="primary",
                size="sm",
                className="mt-3",
                n_clicks=0,
            )  # fmt: skip
        )
    return dbc.Card(dbc.CardBody(body), className="store-author mb-3")


def _draft_editor(app: dict) -> html.Details:
    """The author's form to change a draft (or rejected) app before submitting it."""
    f = ids.DRAFT_FIELDS

    def field(label, key, value, textarea=False, **kw):
        control = dbc.Textarea if textarea else dbc.Input
        return dbc.Col([dbc.Label(label, className="small mb-0"),
                        control(id=f[key], value=value, size="sm", **kw)], xs=12, md=6)  # fmt: skip

    return html.Details(
        [
            html.Summary(
                [html.I(className="bi bi-pencil me-1"), _("Edit the draft")], className="mt-3 mb-2"
            ),  # fmt: skip
            dbc.Row(
                [
                    field(_("Chinese title"), "title_zh", app["title_zh"], maxLength=100),
                    field(_("English title"), "title_en", app["title_en"], maxLength=100),
                    field(
                        _("What it opens"), "target_url", app.get("target_url") or "", maxLength=500
                    ),
                    field(_("Tags (separated by commas)"), "tags", ", ".join(app["tags"])),
                    field(
                        _("Description"),
                        "description",
                        app.get("description") or "",
                        textarea=True,
                        rows=3,
                        maxLength=4000,
                    ),
                    field(
                        _("Parameters users may change (JSON)"),
                        "params",
                        json.dumps(app["params"], ensure_ascii=False),
                        textarea=True,
                        rows=3,
                    ),
                ],
                className="g-2",
            ),  # fmt: skip
            dbc.Button(
                _("Save"),
                id=ids.DRAFT_SAVE,
                size="sm",
                color="outline-primary",
                className="mt-2",
                n_clicks=0,
            ),  # fmt: skip
            html.Div(id=ids.DRAFT_FEEDBACK, className="mt-2"),
        ],
        className="store-draft-editor",
    )


def _review_panel(app: dict) -> dbc.Card:
    buttons = []
    if app["status"] == "submitted":
        buttons = [
            ("approve", _("Approve and list"), "success"),
            ("reject", _("Reject"), "danger"),
        ]
    elif app["status"] == "listed":
        buttons = [("unlist", _("Unlist"), "warning")]
    elif app["status"] == "unlisted":
        buttons = [("list", _("List again"), "success")]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H6([html.I(className="bi bi-shield-check me-2"), _("Review")]),
                dbc.Textarea(
                    id=ids.REVIEW_REASON,
                    placeholder=_("Reason (required to reject; sent to the author)"),
                    rows=2,
                    maxLength=1000,
                    className="mb-2",
                ),
                html.Div(
                    [
                        dbc.Button(
                            label,
                            id={"type": ids.REVIEW_ACT, "action": action},
                            color=color,
                            size="sm",
                            className="me-2",
                            n_clicks=0,
                        )
                        for action, label, color in buttons
                    ]
                    or [
                        html.Span(
                            _("Nothing to review: the app is a draft."),
                            className="text-muted small",
                        )
                    ]
                ),  # fmt: skip
                html.Div(id=ids.REVIEW_FEEDBACK, className="mt-2"),
            ]
        ),
        className="store-review mb-3",
    )


def _comments(comments: dict) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5([html.I(className="bi bi-chat-left-text me-2"), _("Comments")]),
                dcc.Store(id=ids.REPLY_TO),
                html.Div(
                    [
                        html.I(className="bi bi-reply me-1"),
                        _("Replying to a comment"),
                        html.Button(_("Cancel"), id=ids.REPLY_CANCEL, n_clicks=0,
                                    className="btn btn-link btn-sm"),
                    ],
                    id=ids.REPLY_LABEL,
                    style={"display": "none"},
                    className="small text-muted",
                ),  # fmt: skip
                dbc.Textarea(id=ids.COMMENT_TEXT, rows=3, maxLength=2000,
                             placeholder=_("Write a comment…"), className="mb-2"),
                dbc.Button(_("Post"), id=ids.COMMENT_POST, color="primary", size="sm",
                           n_clicks=0),
                html.Div(id=ids.COMMENT_FEEDBACK, className="mt-2"),
                html.Div(ids.comment_list(comments), id=ids.COMMENT_LIST,
                         className="comment-thread mt-3"),
                dbc.Modal(
                    [
                        dbc.ModalHeader(dbc.ModalTitle(_("Edit comment"))),
                        dbc.ModalBody(dbc.Textarea(id=ids.EDIT_TEXT, rows=4, maxLength=2000)),
                        dbc.ModalFooter(dbc.Button(_("Save"), id=ids.EDIT_SAVE,
                                                   color="primary", n_clicks=0)),
                    ],
                    id=ids.EDIT_MODAL,
                    is_open=False,
                ),
                dcc.Store(id=ids.EDIT_ID),
            ]
        ),
        className="store-comments mb-3",
    )  # fmt: skip


def _questions(items: list[dict]) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5([html.I(className="bi bi-question-circle me-2"),
                         _("Questions about this app")]),
                dbc.InputGroup(
                    [
                        dbc.Input(id=ids.APPQ_TITLE, placeholder=_("Ask a question…"),
                                  maxLength=200),
                        dbc.Button(_("Ask"), id=ids.APPQ_ASK, color="primary", n_clicks=0),
                    ],
                    className="mb-1",
                ),
                dbc.Checkbox(id=ids.APPQ_PUBLIC, value=True, label=_("Public question"),
                             className="small mb-2"),
                html.Div(id=ids.APPQ_FEEDBACK),
                html.Div(ids.question_rows(items, True), id=ids.APPQ_LIST),
            ]
        ),
        className="store-questions mb-3",
    )  # fmt: skip


def layout(app_id: str | None = None, **_kwargs):
    """Return the app's page in the user's language."""
    locale = ids.locale()
    try:
        with get_db().session() as s, s.begin():
            app = store.get_app(s, current_user, app_id, count_view=True)
            data = store.app_dict(s, app, current_user, locale, detail=True)
            me = data["me"]
            stats = (
                store.author_stats(s, current_user, app.id)
                if me["is_author"] or me["may_review"]
                else None
            )
            install = None
            if me["install_id"]:
                install = store.install_dict(
                    s, store.get_install(s, current_user, me["install_id"]), locale
                )
            comments = store.list_comments(s, current_user, app.id, 1, 100)
            questions = qa.list_questions(s, current_user, app_id=app.id, per_page=20)["items"]
    except PortalError as exc:
        return html.Div(
            [
                dbc.Alert(exc.message, color="warning", className="mt-3"),
                html.A([html.I(className="bi bi-arrow-left me-1"), _("Back to the store")],
                       href="/store"),
            ]
        )  # fmt: skip
    main = [
        _header(data),
        html.Div(id=ids.FEEDBACK),
        html.Div(ids.copy_panel(install), id=ids.MY_COPY),
    ]
    if stats is not None:
        main.append(_author_panel(data, stats))
    if me["may_review"]:
        main.append(_review_panel(data))
    return html.Div(
        [
            dcc.Store(id=ids.APP_ID, data=data["id"]),
            html.Div(
                html.A([html.I(className="bi bi-arrow-left me-1"), _("App store")], href="/store"),
                className="mb-2 small",
            ),
            *main,
            dbc.Row(
                [
                    dbc.Col(_comments(comments), xs=12, lg=7),
                    dbc.Col(_questions(questions), xs=12, lg=5),
                ],
                className="g-3",
            ),
        ],
        className="store-app-page",
    )
