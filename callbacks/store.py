"""The app store, app page and Q&A pages: component ids, renderers and callbacks.

Every callback acts through portal/services/store.py and portal/services/questions.py, which
check the current user's rights on the server; hiding a button is never the check. User text
(comments, questions, answers) is always rendered as text, never as HTML or markdown.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from components.formatting import format_time
from portal.db import get_db
from portal.errors import PortalError
from portal.services import questions as qa
from portal.services import store

log = logging.getLogger(__name__)

# -- ids of /store --------------------------------------------------------------------------------
GRID = "store-grid"
PAGER = "store-pager"
TOTAL = "store-total"
SEARCH = "store-search"
CATEGORY = "store-category"
TAG = "store-tag"
SORT = "store-sort"
TABS = "store-tabs"
FILTERS = "store-filters"
NEW_OPEN = "store-new-open"
NEW_MODAL = "store-new-modal"
NEW_FIELDS = {
    "title_zh": "store-new-title-zh",
    "title_en": "store-new-title-en",
    "kind": "store-new-kind",
    "target_url": "store-new-target",
    "category": "store-new-category",
    "tags": "store-new-tags",
    "description": "store-new-description",
    "params": "store-new-params",
    "preview": "store-new-preview",
}
NEW_SAVE = "store-new-save"
NEW_SUBMIT = "store-new-submit"
NEW_FEEDBACK = "store-new-feedback"
NAV = "store-nav"
PER_PAGE = 12

# -- ids of /store/<app_id> -----------------------------------------------------------------------
APP_ID = "store-app-id"
FEEDBACK = "store-app-feedback"
STATS = "store-app-stats"
LIKE = "store-app-like"
FAVORITE = "store-app-favorite"
STAR = "store-star"
INSTALL = "store-app-install"
MY_COPY = "store-my-copy"
PARAM = "store-param"
PARAMS_SAVE = "store-params-save"
PARAMS_FEEDBACK = "store-params-feedback"
COPY_OPEN = "store-copy-open"
INSTALL_ID = "store-install-id"
UNINSTALL = "store-uninstall"
DRAFT_FIELDS = {
    "title_zh": "store-draft-title-zh",
    "title_en": "store-draft-title-en",
    "target_url": "store-draft-target",
    "description": "store-draft-description",
    "tags": "store-draft-tags",
    "params": "store-draft-params",
}
DRAFT_SAVE = "store-draft-save"
DRAFT_FEEDBACK = "store-draft-feedback"
STATUS = "store-app-status"
SUBMIT = "store-app-submit"
REVIEW_REASON = "store-review-reason"
REVIEW_ACT = "store-review-act"
REVIEW_FEEDBACK = "store-review-feedback"
COMMENT_TEXT = "store-comment-text"
COMMENT_POST = "store-comment-post"
COMMENT_LIST = "store-comment-list"
COMMENT_FEEDBACK = "store-comment-feedback"
REPLY_TO = "store-reply-to"
REPLY_LABEL = "store-reply-label"
REPLY_CANCEL = "store-reply-cancel"
COMMENT_ACT = "store-comment-act"
EDIT_MODAL = "store-edit-modal"
EDIT_TEXT = "store-edit-text"
EDIT_ID = "store-edit-id"
EDIT_SAVE = "store-edit-save"
APPQ_TITLE = "store-appq-title"
APPQ_PUBLIC = "store-appq-public"
APPQ_ASK = "store-appq-ask"
APPQ_LIST = "store-appq-list"
APPQ_FEEDBACK = "store-appq-feedback"

# -- ids of /questions ---------------------------------------------------------------------------
Q_LIST = "qa-list"
Q_STATUS = "qa-status"
Q_MINE = "qa-mine"
Q_SEARCH = "qa-search"
Q_PAGER = "qa-pager"
Q_TOTAL = "qa-total"
Q_ASK_TITLE = "qa-ask-title"
Q_ASK_BODY = "qa-ask-body"
Q_ASK_PUBLIC = "qa-ask-public"
Q_ASK_INVITE = "qa-ask-invite"
Q_ASK = "qa-ask"
Q_ASK_FEEDBACK = "qa-ask-feedback"
Q_ID = "qa-id"
Q_DETAIL = "qa-detail"
Q_ANSWER_TEXT = "qa-answer-text"
Q_ANSWER = "qa-answer"
Q_FEEDBACK = "qa-feedback"
Q_ACT = "qa-act"
Q_NAV = "qa-nav"

KIND_ICONS = {
    "dashboard": "speedometer2",
    "pivot": "grid-3x3",
    "query": "search",
    "mining": "diagram-3",
    "external": "box-arrow-up-right",
}


def locale() -> str:
    return str(get_locale() or "zh_CN")


def alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, dismissable=True, className="py-2 mb-2")


when = format_time  # stored UTC, shown in the bank's time


def _clicked() -> bool:
    """Return whether the callback was fired by a real click (not a component appearing)."""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


def stars_text(average: float | None, count: int) -> str:
    if not count or average is None:
        return _("No ratings yet")
    return _("%(avg).1f / 5 (%(n)d ratings)", avg=average, n=count)


# -- renderers ---------------------------------------------------------------------------------
def app_card(item: dict) -> dbc.Col:
    """Return one app as a card of the store's grid."""
    icon = KIND_ICONS.get(item["kind"], "app")
    preview = (
        html.Img(src=item["preview"], className="store-card-img", alt="")
        if item.get("preview")
        else html.Div(
            html.I(className=f"bi bi-{icon}"), className=f"store-card-icon k-{item['kind']}"
        )
    )
    rating = item.get("rating_average")
    return dbc.Col(
        dbc.Card(
            [
                html.A(preview, href=f"/store/{item['id']}", className="store-card-preview"),
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                dbc.Badge(
                                    store.category_label(item["category"]),
                                    color="light",
                                    text_color="primary",
                                    className="me-1",
                                ),  # fmt: skip
                                dbc.Badge(
                                    store.kind_label(item["kind"]),
                                    color="light",
                                    text_color="secondary",
                                ),  # fmt: skip
                                *(
                                    [
                                        dbc.Badge(
                                            store.status_label(item["status"]),
                                            color="warning",
                                            className="ms-1",
                                        )
                                    ]  # fmt: skip
                                    if item["status"] != "listed"
                                    else []
                                ),
                            ],
                            className="mb-1",
                        ),
                        html.A(
                            item["title"],
                            href=f"/store/{item['id']}",
                            className="store-card-title stretched-link",
                        ),  # fmt: skip
                        html.Div(item.get("description") or "", className="store-card-desc"),
                        html.Div(
                            [html.Span(f"#{t}", className="store-tag") for t in item["tags"][:4]],
                            className="store-card-tags",
                        ),
                    ]
                ),
                dbc.CardFooter(
                    [
                        html.Span(
                            [
                                html.I(className="bi bi-star-fill text-warning me-1"),
                                f"{rating:.1f}" if rating else "—",
                            ],  # fmt: skip
                            title=stars_text(rating, item["rating_count"]),
                        ),
                        html.Span(
                            [html.I(className="bi bi-download me-1"), str(item["install_count"])],
                            title=_("Installs"),
                        ),
                        html.Span(
                            [
                                html.I(className="bi bi-hand-thumbs-up me-1"),
                                str(item["like_count"]),
                            ],
                            title=_("Likes"),
                        ),
                        html.Span(
                            (item.get("author") or {}).get("name", ""),
                            className="text-muted text-truncate",
                        ),  # fmt: skip
                    ],
                    className="store-card-footer",
                ),
            ],
            className="store-card h-100",
        ),
        xs=12,
        sm=6,
        lg=4,
        xxl=3,
    )


def empty(message: str) -> html.Div:
    return html.Div(
        [html.I(className="bi bi-inbox me-2"), message], className="store-empty text-muted"
    )


def installed_rows(items: list[dict]) -> list:
    """Return the user's installed copies as a list group."""
    if not items:
        return [empty(_("You have not installed any app yet."))]
    return [
        dbc.ListGroup(
            [
                dbc.ListGroupItem(
                    [
                        html.Div(
                            [
                                html.I(className=f"bi bi-{KIND_ICONS.get(i['kind'], 'app')} me-2"),
                                html.A(
                                    i["title"],
                                    href=f"/store/{i['app_id']}",
                                    className="fw-semibold",
                                ),  # fmt: skip
                                html.Span(
                                    ", ".join(f"{k}={v}" for k, v in i["params"].items()),
                                    className="text-muted small ms-2 store-param-summary",
                                ),
                            ]
                        ),
                        html.A(
                            [_("Open"), html.I(className="bi bi-arrow-right ms-1")],
                            href=i["link"],
                            className="btn btn-sm btn-outline-primary",
                        ),  # fmt: skip
                    ],
                    className="d-flex justify-content-between align-items-center gap-2",
                )
                for i in items
            ]
        )
    ]


def _comment_button(label: str, action: str, comment_id, class_name: str) -> html.Button:
    return html.Button(
        label,
        id={"type": COMMENT_ACT, "action": action, "id": comment_id},
        className=f"btn btn-link btn-sm p-0 {class_name}",
        n_clicks=0,
    )


def comment_node(c: dict, depth: int = 0) -> html.Div:
    """Return a comment and its replies; the body is a text node (never HTML)."""
    author = (c.get("author") or {}).get("name") or _("Unknown user")
    actions = []
    if not c["deleted"]:
        actions.append(_comment_button(_("Reply"), "reply", c["id"], "me-3"))
    if c.get("may_edit"):
        actions.append(_comment_button(_("Edit"), "edit", c["id"], "me-3"))
    if c.get("may_delete"):
        actions.append(_comment_button(_("Delete"), "delete", c["id"], "text-danger"))
    body = (
        html.Div(_("This comment was removed."), className="comment-body text-muted fst-italic")
        if c["deleted"]
        else html.Div(c["body"], className="comment-body")
    )
    return html.Div(
        [
            html.Div(
                [
                    html.I(className="bi bi-person-circle me-1 text-muted"),
                    html.Span(author, className="fw-semibold me-2"),
                    html.Span(when(c.get("created_at")), className="text-muted small"),
                    html.Span(f" · {_('edited')}", className="text-muted small")
                    if c.get("edited")
                    else None,
                ],
                className="comment-head",
            ),
            body,
            html.Div(actions, className="comment-actions"),
            html.Div(
                [comment_node(r, depth + 1) for r in c.get("replies", [])],
                className="comment-replies",
            ),  # fmt: skip
        ],
        id=f"comment-{c['id']}",
        className="comment" + (" comment-reply" if depth else ""),
    )


def comment_list(page: dict) -> list:
    if not page["items"]:
        return [empty(_("No comments yet. Be the first to comment."))]
    return [comment_node(c) for c in page["items"]]


def status_badge(status: str) -> dbc.Badge:
    """Return a question's Resolved/Open badge."""
    resolved = status == "resolved"
    return dbc.Badge(
        _("Resolved") if resolved else _("Open"),
        color="success" if resolved else "secondary",
        className="me-2",
    )


def question_rows(items: list[dict], compact: bool = False) -> list:
    """Return questions as rows linking to their page."""
    if not items:
        return [empty(_("No questions yet."))]
    rows = []
    for q in items:
        badges = [status_badge(q["status"])]
        if not q["is_public"]:
            badges.append(dbc.Badge([html.I(className="bi bi-lock me-1"), _("Private")],
                                    color="dark", className="me-2"))  # fmt: skip
        rows.append(
            dbc.ListGroupItem(
                [
                    html.Div(
                        [
                            *badges,
                            html.A(
                                q["title"],
                                href=f"/questions?id={q['id']}",
                                className="fw-semibold qa-title",
                            ),
                        ],  # fmt: skip
                    ),
                    html.Div(
                        [
                            html.Span((q.get("asker") or {}).get("name", ""), className="me-2"),
                            html.Span(when(q.get("created_at")), className="me-2"),
                            html.Span(_("%(n)d answers", n=q["answer_count"])),
                        ],
                        className="text-muted small",
                    ),
                ],
                className="qa-row" + (" py-2" if compact else ""),
            )
        )
    return [dbc.ListGroup(rows, flush=compact)]


def question_detail(data: dict) -> list:
    """Return a question with its answers, vote buttons and (for the asker) best-answer buttons."""
    asker = (data.get("asker") or {}).get("name", "")
    head = [
        html.Div(
            [
                status_badge(data["status"]),
                dbc.Badge([html.I(className="bi bi-lock me-1"), _("Private")], color="dark")
                if not data["is_public"]
                else None,
            ],
            className="mb-2",
        ),
        html.H4(data["title"], className="qa-detail-title"),
        html.Div(
            [html.Span(asker, className="me-2"), html.Span(when(data.get("created_at")))]
            + (
                [
                    html.A(
                        [html.I(className="bi bi-app me-1"), _("About an app")],
                        href=f"/store/{data['app_id']}",
                        className="ms-3",
                    )
                ]  # fmt: skip
                if data.get("app_id")
                else []
            ),
            className="text-muted small mb-2",
        ),
        html.Div(data.get("body") or "", className="qa-body"),
    ]
    if data.get("invited"):
        head.append(
            html.Div(
                _("Invited: %(names)s", names=", ".join(u["name"] for u in data["invited"])),
                className="text-muted small mt-2",
            )
        )
    answers = []
    for a in data.get("answers", []):
        buttons = [
            html.Button(
                [
                    html.I(className="bi bi-hand-thumbs-up" + ("-fill" if a["voted"] else "")),
                    html.Span(str(a["vote_count"]), className="ms-1"),
                ],  # fmt: skip
                id={"type": Q_ACT, "action": "unvote" if a["voted"] else "vote", "id": a["id"]},
                className="btn btn-sm btn-outline-primary" + (" active" if a["voted"] else ""),
                title=_("Useful"),
                n_clicks=0,
            )
        ]
        if data.get("may_choose_best") and not a["is_best"]:
            buttons.append(
                html.Button(
                    [html.I(className="bi bi-check2-circle me-1"), _("Best answer")],
                    id={"type": Q_ACT, "action": "best", "id": a["id"]},
                    className="btn btn-sm btn-outline-success ms-2",
                    n_clicks=0,
                )  # fmt: skip
            )
        answers.append(
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Badge(
                                [html.I(className="bi bi-patch-check-fill me-1"), _("Best answer")],
                                color="success",
                                className="me-2",
                            )
                            if a["is_best"]
                            else None,
                            html.Span(
                                (a.get("author") or {}).get("name", ""),
                                className="fw-semibold me-2",
                            ),
                            html.Span(when(a.get("created_at")), className="text-muted small"),
                        ]
                    ),  # fmt: skip
                    html.Div(a["body"], className="qa-answer-body"),
                    html.Div(buttons, className="mt-1"),
                ],
                className="qa-answer" + (" qa-best" if a["is_best"] else ""),
                id=f"answer-{a['id']}",
            )
        )
    if not answers:
        answers = [empty(_("No answers yet."))]
    return [
        dbc.Card(dbc.CardBody(head), className="mb-3 qa-question"),
        html.H6(_("%(n)d answers", n=data["answer_count"]), className="mb-2"),
        html.Div(answers, className="qa-answers"),
    ]


# -- /store callbacks -------------------------------------------------------------------------
def load_grid(tab, q, category, tag, sort, page):
    """Fill the store's grid for the chosen tab, filters, sort and page."""
    page = page or 1
    try:
        with get_db().session() as s:
            if tab == "installed":
                items = store.my_apps(s, current_user, locale())
                return installed_rows(items), 1, _("%(n)d apps", n=len(items)), {"display": "none"}
            scope = {"mine": "mine", "review": "review"}.get(tab, "listed")
            result = store.browse(
                s,
                current_user,
                category=category or None,
                tag=tag or None,
                sort=sort or "newest",
                q=q,
                scope=scope,
                page=page,
                per_page=PER_PAGE,
                locale=locale(),
            )
    except PortalError as exc:
        return [alert(exc.message)], 1, "", {}
    pages = max(1, -(-result["total"] // PER_PAGE))
    if not result["items"]:
        message = (
            _("No app matches these filters.") if scope == "listed" else _("Nothing here yet.")
        )
        grid = [empty(message)]
    else:
        grid = [dbc.Row([app_card(i) for i in result["items"]], className="g-3")]
    return grid, pages, _("%(n)d apps", n=result["total"]), {}


def reset_page(*_args):
    """Go back to the first page when a filter changes."""
    return 1


def toggle_new(n_open, is_open):
    """Open the publish dialog."""
    if not n_open:
        raise dash.exceptions.PreventUpdate
    return not is_open


def _app_form(names, values) -> tuple[dict, dbc.Alert | None]:
    """Return the app form's values by field name, texts stripped and `params` read as JSON.

    The second item is an alert (and the values are empty) when the parameters are not JSON.
    """
    data = dict(zip(names, values, strict=True))
    raw_params = (data.pop("params") or "").strip()
    try:
        data["params"] = json.loads(raw_params) if raw_params else {}
    except ValueError:
        return {}, alert(_('Parameters must be JSON, for example {"branch": "BJ"}.'))
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}, None


def create_new(n_save, n_submit, *values):
    """Create a draft app (and submit it for review if asked), then open its page."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    data, problem = _app_form(NEW_FIELDS, values)
    if problem is not None:
        return problem, dash.no_update
    data = {k: v for k, v in data.items() if v not in ("", None)}
    try:
        with get_db().session() as s, s.begin():
            app = store.create_app(s, current_user, data)
            if ctx.triggered_id == NEW_SUBMIT:
                store.submit_app(s, current_user, app.id)
            app_id = app.id
    except PortalError as exc:
        return alert(exc.message), dash.no_update
    return alert(_("Saved."), "success"), f"/store/{app_id}"


# -- /store/<app_id> callbacks ------------------------------------------------------------------
def like_button(liked: bool, count: int) -> list:
    icon = "bi-hand-thumbs-up-fill" if liked else "bi-hand-thumbs-up"
    return [
        html.I(className=f"bi {icon} me-1"),
        _("Like"),
        html.Span(str(count), className="ms-1 badge bg-light text-dark"),
    ]


def favorite_content(starred: bool, count: int) -> list:
    icon = "bi-star-fill" if starred else "bi-star"
    label = _("Favorited") if starred else _("Add to favorites")
    return [
        html.I(className=f"bi {icon} me-1"),
        label,
        html.Span(str(count), className="ms-1 badge bg-light text-dark"),
    ]


def install_content(installed: bool, count: int) -> list:
    if installed:
        return [
            html.I(className="bi bi-check2-circle me-1"),
            _("Installed"),
            html.Span(str(count), className="ms-1 badge bg-light text-dark"),
        ]
    return [
        html.I(className="bi bi-download me-1"),
        _("Install"),
        html.Span(str(count), className="ms-1 badge bg-light text-dark"),
    ]


def stats_line(app: dict) -> list:
    return [
        html.Span([html.I(className="bi bi-star-fill text-warning me-1"),
                   stars_text(app["rating_average"], app["rating_count"])], className="me-3"),
        html.Span([html.I(className="bi bi-download me-1"),
                   _("%(n)d installs", n=app["install_count"])], className="me-3"),
        html.Span([html.I(className="bi bi-chat-left-text me-1"),
                   _("%(n)d comments", n=app["comment_count"])], className="me-3"),
    ]  # fmt: skip


def star_classes(stars: int | None) -> list[str]:
    return [
        "btn btn-link p-0 store-star" + (" on" if stars and n <= stars else "") for n in range(1, 6)
    ]


def copy_panel(install: dict | None) -> list:
    """Return the user's own copy: its parameters, editable, and a link to open it."""
    if install is None:
        return []
    fields = []
    for name, value in install["params"].items():
        kind = (
            "number" if isinstance(value, int | float) and not isinstance(value, bool) else "text"
        )
        fields.append(
            dbc.Col(
                [
                    dbc.Label(name, className="small mb-0"),
                    dbc.Input(
                        id={"type": PARAM, "name": name},
                        value=("true" if value else "false") if isinstance(value, bool) else value,
                        type=kind,
                        size="sm",
                    ),
                ],
                xs=12,
                sm=6,
                md=4,
            )
        )
    return [
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(
                        [
                            html.H6([html.I(className="bi bi-person-workspace me-2"),
                                     _("My copy")], className="mb-0"),  # fmt: skip
                            html.A([_("Open my copy"), html.I(className="bi bi-arrow-right ms-1")],
                                   href=install["link"], id=COPY_OPEN,
                                   className="btn btn-sm btn-primary"),  # fmt: skip
                        ],
                        className="d-flex justify-content-between align-items-center mb-2",
                    ),
                    html.Div(_("Your installed copy is yours alone: change its parameters "
                               "without touching the original."), className="text-muted small mb-2"),  # fmt: skip
                    dcc.Store(id=INSTALL_ID, data=install["id"]),
                    dbc.Row(fields, className="g-2 mb-2") if fields else html.Div(
                        _("This app has no parameters."), className="text-muted small"),
                    html.Div(
                        [
                            dbc.Button(_("Save parameters"), id=PARAMS_SAVE, size="sm",
                                       color="outline-primary", n_clicks=0) if fields else None,
                            dbc.Button(_("Uninstall"), id=UNINSTALL, size="sm", color="link",
                                       className="text-danger", n_clicks=0),
                        ],
                        className="d-flex gap-2 align-items-center",
                    ),
                    html.Div(id=PARAMS_FEEDBACK, className="mt-2"),
                ]
            ),
            className="store-copy mb-3",
        )
    ]  # fmt: skip


def app_action(like_n, fav_n, star_n, install_n, app_id):
    """Like/unlike, star/unstar, rate or install the app; refresh the buttons and counts."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = ctx.triggered_id
    feedback = None
    try:
        with get_db().session() as s, s.begin():
            app = store.get_app(s, current_user, app_id)
            marks = store.my_marks(s, current_user, app)
            if trigger == LIKE:
                app = (store.unlike if marks["liked"] else store.like)(s, current_user, app_id)
            elif trigger == FAVORITE:
                (store.unfavorite if marks["favorite"] else store.favorite)(s, current_user, app_id)
            elif trigger == INSTALL and not marks["install_id"]:
                store.install(s, current_user, app_id)
                feedback = alert(_("Installed: the app is now in My apps."), "success")
            elif isinstance(trigger, dict) and trigger.get("type") == STAR:
                store.rate(s, current_user, app_id, int(trigger["n"]))
                feedback = alert(_("Thank you for rating."), "success")
            app = store.get_app(s, current_user, app_id)
            data = store.app_dict(s, app, current_user, locale(), detail=True)
            install = None
            if data["me"]["install_id"]:
                record = store.get_install(s, current_user, data["me"]["install_id"])
                install = store.install_dict(s, record, locale())
    except PortalError as exc:
        return (dash.no_update,) * 8 + (alert(exc.message),)
    me = data["me"]
    return (
        stats_line(data),
        like_button(me["liked"], data["like_count"]),
        "btn btn-outline-primary" + (" active" if me["liked"] else ""),
        favorite_content(me["favorite"], data["favorite_count"]),
        "btn btn-outline-warning" + (" active" if me["favorite"] else ""),
        star_classes(me["stars"]),
        install_content(bool(me["install_id"]), data["install_count"]),
        copy_panel(install) if trigger == INSTALL else dash.no_update,
        feedback,
    )


def save_params(n_clicks, values, ids, install_id):
    """Save the parameters of the user's own copy; the original app is untouched."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            record = store.get_install(s, current_user, install_id)
            originals = dict(record.app.params or {})
            params: dict[str, Any] = {}
            for pid, value in zip(ids, values, strict=True):
                name = pid["name"]
                original = originals.get(name)
                if isinstance(original, bool):
                    value = str(value).lower() in ("true", "1", "yes", "是")
                elif isinstance(original, int | float) and value not in (None, ""):
                    try:
                        value = float(value)
                        value = (
                            int(value)
                            if value.is_integer() and isinstance(original, int)
                            else value
                        )
                    except (TypeError, ValueError):
                        pass
                params[name] = value
            record = store.update_install_params(s, current_user, install_id, params)
            link = store.install_dict(s, record, locale())["link"]
    except PortalError as exc:
        return alert(exc.message), dash.no_update
    return alert(_("Parameters saved."), "success"), link


def uninstall(n_clicks, app_id):
    """Remove the user's own copy of the app (the original stays in the store)."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            app = store.uninstall(s, current_user, app_id)
            count = app.install_count
    except PortalError as exc:
        return dash.no_update, dash.no_update, alert(exc.message)
    return [], install_content(False, count), alert(_("Uninstalled."), "success")


def save_draft(n_clicks, *values):
    """The author saves changes to a draft (or rejected) app; the server checks both."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    *fields, app_id = values
    data, problem = _app_form(DRAFT_FIELDS, fields)
    if problem is not None:
        return problem, dash.no_update
    data["tags"] = data.get("tags") or []
    try:
        with get_db().session() as s, s.begin():
            app = store.update_app(s, current_user, app_id, data)
            status = app.status
    except PortalError as exc:
        return alert(exc.message), dash.no_update
    return alert(_("Saved."), "success"), store.status_label(status)


def submit_for_review(n_clicks, app_id):
    """The author sends the draft to review."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            app = store.submit_app(s, current_user, app_id)
            status = app.status
    except PortalError as exc:
        return dash.no_update, alert(exc.message), dash.no_update
    return store.status_label(status), alert(_("Submitted for review."), "success"), True


def review_action(clicks, reason, app_id):
    """An administrator approves, rejects (with a reason), lists or unlists the app."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    action = ctx.triggered_id.get("action") if isinstance(ctx.triggered_id, dict) else None
    try:
        with get_db().session() as s, s.begin():
            if action in ("approve", "reject"):
                app = store.review_app(s, current_user, app_id, action, reason)
            elif action == "list":
                app = store.list_app(s, current_user, app_id)
            elif action == "unlist":
                app = store.unlist_app(s, current_user, app_id, reason)
            else:
                raise dash.exceptions.PreventUpdate
            status = app.status
    except PortalError as exc:
        return dash.no_update, alert(exc.message)
    done = {
        "listed": _("The app is listed in the store."),
        "rejected": _("The app was rejected; the author has been told why."),
        "unlisted": _("The app was unlisted."),
    }
    return store.status_label(status), alert(done.get(status, _("Saved.")), "success")


def _comments(s, app_id) -> list:
    return comment_list(store.list_comments(s, current_user, app_id, 1, 100))


def comment_action(post_n, act_n, edit_n, text, reply_to, edit_id, edit_text, app_id):
    """Post a comment or reply, save an edit, or remove a comment; refresh the thread."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = ctx.triggered_id
    clear = dash.no_update
    close_edit = dash.no_update
    reply = dash.no_update
    try:
        with get_db().session() as s, s.begin():
            if trigger == COMMENT_POST:
                parent = (reply_to or {}).get("id")
                store.add_comment(s, current_user, app_id, text, parent)
                clear, reply = "", None
            elif trigger == EDIT_SAVE:
                store.edit_comment(s, current_user, edit_id, edit_text)
                close_edit = False
            elif isinstance(trigger, dict) and trigger.get("action") == "delete":
                store.delete_comment(s, current_user, trigger["id"])
            else:
                raise dash.exceptions.PreventUpdate
            thread = _comments(s, app_id)
    except PortalError as exc:
        return dash.no_update, alert(exc.message), clear, close_edit, reply
    return thread, None, clear, close_edit, reply


def choose_reply(act_n, cancel_n):
    """Start a reply to a comment (or cancel it)."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = ctx.triggered_id
    if trigger == REPLY_CANCEL or not isinstance(trigger, dict):
        return None
    return {"id": trigger["id"]}


def show_reply(reply_to):
    """Show whom the comment box replies to."""
    if not reply_to:
        return {"display": "none"}, _("Write a comment…")
    return {}, _("Write a reply…")


def open_edit(act_n):
    """Open the edit dialog with the comment's current text (only its author may save it)."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = ctx.triggered_id
    from portal.models.store import AppComment

    with get_db().session() as s:
        comment = s.get(AppComment, trigger["id"])
        if comment is None or comment.author_id != current_user.id or comment.deleted_at:
            raise dash.exceptions.PreventUpdate
        return True, comment.body, comment.id


def ask_about_app(n_clicks, title, public, app_id):
    """Ask a question about the app; refresh its question list."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            qa.ask(s, current_user, {"title": title, "app_id": app_id, "is_public": bool(public)})
            rows = question_rows(
                qa.list_questions(s, current_user, app_id=app_id, per_page=20)["items"], True
            )
    except PortalError as exc:
        return dash.no_update, alert(exc.message), dash.no_update
    return rows, alert(_("Your question was posted."), "success"), ""


# -- /questions callbacks -----------------------------------------------------------------------
def load_questions(status, mine, q, page):
    """Fill the list of questions for the filters and page."""
    try:
        with get_db().session() as s:
            result = qa.list_questions(
                s, current_user, status=None if status in (None, "", "all") else status, mine=bool(mine), q=q,
                page=page or 1, per_page=PER_PAGE,
            )  # fmt: skip
    except PortalError as exc:
        return [alert(exc.message)], 1, ""
    pages = max(1, -(-result["total"] // PER_PAGE))
    return question_rows(result["items"]), pages, _("%(n)d questions", n=result["total"])


def ask_question(n_clicks, title, body, public, invite):
    """Post a new question and open it."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    data = {"title": title, "body": body, "is_public": bool(public), "invite": invite or []}
    try:
        with get_db().session() as s, s.begin():
            question = qa.ask(s, current_user, data)
            qid = question.id
    except PortalError as exc:
        return alert(exc.message), dash.no_update
    return alert(_("Your question was posted."), "success"), f"/questions?id={qid}"


def question_action(answer_n, act_n, text, question_id):
    """Answer, vote for an answer or choose the best one; refresh the question."""
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = ctx.triggered_id
    clear = dash.no_update
    try:
        with get_db().session() as s, s.begin():
            if trigger == Q_ANSWER:
                qa.answer(s, current_user, question_id, text)
                clear = ""
            elif isinstance(trigger, dict) and trigger.get("action") in ("vote", "unvote"):
                qa.vote(s, current_user, trigger["id"], up=trigger["action"] == "vote")
            elif isinstance(trigger, dict) and trigger.get("action") == "best":
                qa.choose_best(s, current_user, question_id, trigger["id"])
            else:
                raise dash.exceptions.PreventUpdate
            question = qa.get_question(s, current_user, question_id)
            detail = question_detail(qa.question_dict(s, question, current_user, detail=True))
    except PortalError as exc:
        return dash.no_update, alert(exc.message), clear
    return detail, None, clear


def register(app: dash.Dash) -> None:
    # /store
    app.callback(
        Output(GRID, "children"),
        Output(PAGER, "max_value"),
        Output(TOTAL, "children"),
        Output(FILTERS, "style"),
        Input(TABS, "active_tab"),
        Input(SEARCH, "value"),
        Input(CATEGORY, "value"),
        Input(TAG, "value"),
        Input(SORT, "value"),
        Input(PAGER, "active_page"),
    )(load_grid)
    app.callback(
        Output(PAGER, "active_page"),
        Input(TABS, "active_tab"),
        Input(SEARCH, "value"),
        Input(CATEGORY, "value"),
        Input(TAG, "value"),
        Input(SORT, "value"),
        prevent_initial_call=True,
    )(reset_page)
    app.callback(
        Output(NEW_MODAL, "is_open"),
        Input(NEW_OPEN, "n_clicks"),
        State(NEW_MODAL, "is_open"),
        prevent_initial_call=True,
    )(toggle_new)
    app.callback(
        Output(NEW_FEEDBACK, "children"),
        Output(NAV, "href"),
        Input(NEW_SAVE, "n_clicks"),
        Input(NEW_SUBMIT, "n_clicks"),
        *[State(cid, "value") for cid in NEW_FIELDS.values()],
        prevent_initial_call=True,
    )(create_new)
    # /store/<app_id>
    app.callback(
        Output(STATS, "children"),
        Output(LIKE, "children"),
        Output(LIKE, "className"),
        Output(FAVORITE, "children"),
        Output(FAVORITE, "className"),
        Output({"type": STAR, "n": ALL}, "className"),
        Output(INSTALL, "children"),
        Output(MY_COPY, "children"),
        Output(FEEDBACK, "children"),
        Input(LIKE, "n_clicks"),
        Input(FAVORITE, "n_clicks"),
        Input({"type": STAR, "n": ALL}, "n_clicks"),
        Input(INSTALL, "n_clicks"),
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(app_action)
    app.callback(
        Output(PARAMS_FEEDBACK, "children"),
        Output(COPY_OPEN, "href"),
        Input(PARAMS_SAVE, "n_clicks"),
        State({"type": PARAM, "name": ALL}, "value"),
        State({"type": PARAM, "name": ALL}, "id"),
        State(INSTALL_ID, "data"),
        prevent_initial_call=True,
    )(save_params)
    app.callback(
        Output(MY_COPY, "children", allow_duplicate=True),
        Output(INSTALL, "children", allow_duplicate=True),
        Output(FEEDBACK, "children", allow_duplicate=True),
        Input(UNINSTALL, "n_clicks"),
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(uninstall)
    app.callback(
        Output(DRAFT_FEEDBACK, "children"),
        Output(STATUS, "children", allow_duplicate=True),
        Input(DRAFT_SAVE, "n_clicks"),
        *[State(cid, "value") for cid in DRAFT_FIELDS.values()],
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(save_draft)
    app.callback(
        Output(STATUS, "children"),
        Output(FEEDBACK, "children", allow_duplicate=True),
        Output(SUBMIT, "disabled"),
        Input(SUBMIT, "n_clicks"),
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(submit_for_review)
    app.callback(
        Output(STATUS, "children", allow_duplicate=True),
        Output(REVIEW_FEEDBACK, "children"),
        Input({"type": REVIEW_ACT, "action": ALL}, "n_clicks"),
        State(REVIEW_REASON, "value"),
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(review_action)
    app.callback(
        Output(COMMENT_LIST, "children"),
        Output(COMMENT_FEEDBACK, "children"),
        Output(COMMENT_TEXT, "value"),
        Output(EDIT_MODAL, "is_open"),
        Output(REPLY_TO, "data"),
        Input(COMMENT_POST, "n_clicks"),
        Input({"type": COMMENT_ACT, "action": "delete", "id": ALL}, "n_clicks"),
        Input(EDIT_SAVE, "n_clicks"),
        State(COMMENT_TEXT, "value"),
        State(REPLY_TO, "data"),
        State(EDIT_ID, "data"),
        State(EDIT_TEXT, "value"),
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(comment_action)
    app.callback(
        Output(REPLY_TO, "data", allow_duplicate=True),
        Input({"type": COMMENT_ACT, "action": "reply", "id": ALL}, "n_clicks"),
        Input(REPLY_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )(choose_reply)
    app.callback(
        Output(REPLY_LABEL, "style"),
        Output(COMMENT_TEXT, "placeholder"),
        Input(REPLY_TO, "data"),
    )(show_reply)
    app.callback(
        Output(EDIT_MODAL, "is_open", allow_duplicate=True),
        Output(EDIT_TEXT, "value"),
        Output(EDIT_ID, "data"),
        Input({"type": COMMENT_ACT, "action": "edit", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(open_edit)
    app.callback(
        Output(APPQ_LIST, "children"),
        Output(APPQ_FEEDBACK, "children"),
        Output(APPQ_TITLE, "value"),
        Input(APPQ_ASK, "n_clicks"),
        State(APPQ_TITLE, "value"),
        State(APPQ_PUBLIC, "value"),
        State(APP_ID, "data"),
        prevent_initial_call=True,
    )(ask_about_app)
    # /questions
    app.callback(
        Output(Q_LIST, "children"),
        Output(Q_PAGER, "max_value"),
        Output(Q_TOTAL, "children"),
        Input(Q_STATUS, "value"),
        Input(Q_MINE, "value"),
        Input(Q_SEARCH, "value"),
        Input(Q_PAGER, "active_page"),
    )(load_questions)
    app.callback(
        Output(Q_ASK_FEEDBACK, "children"),
        Output(Q_NAV, "href"),
        Input(Q_ASK, "n_clicks"),
        State(Q_ASK_TITLE, "value"),
        State(Q_ASK_BODY, "value"),
        State(Q_ASK_PUBLIC, "value"),
        State(Q_ASK_INVITE, "value"),
        prevent_initial_call=True,
    )(ask_question)
    app.callback(
        Output(Q_DETAIL, "children"),
        Output(Q_FEEDBACK, "children"),
        Output(Q_ANSWER_TEXT, "value"),
        Input(Q_ANSWER, "n_clicks"),
        Input({"type": Q_ACT, "action": ALL, "id": ALL}, "n_clicks"),
        State(Q_ANSWER_TEXT, "value"),
        State(Q_ID, "data"),
        prevent_initial_call=True,
    )(question_action)
