"""Callbacks and view helpers of the social pages: the message center (/messages), groups and
the activity feed (/groups), the account page (/account) and the navbar's message badge.

Every callback runs as `current_user`; permissions are checked by the services. User texts
(posts, comments, messages) are passed to components as children strings, which Dash renders
as text — never as HTML or Markdown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, dcc, html
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from components.formatting import format_time
from portal.db import get_db
from portal.errors import PortalError
from portal.models import Group, Resource, User
from portal.models.social import MESSAGE_KINDS
from portal.services import access_requests as access_service
from portal.services import api_tokens as token_service
from portal.services import groups as group_service
from portal.services import messages as message_service
from portal.services import sharing as sharing_service

PER_PAGE = 15
FEED_PER_PAGE = 10
BADGE_INTERVAL_MS = 60_000
KIND_ICONS = {
    "share": "share",
    "comment": "chat-left-text",
    "answer": "question-circle",
    "review": "clipboard-check",
    "access": "key",
    "alert": "bell",
    "install": "box-arrow-in-down",
}

# -- component ids ------------------------------------------------------------------------------
BADGE, BADGE_INTERVAL = "message-badge", "message-badge-interval"
MSG = {
    "tabs": "msg-tabs",
    "unread": "msg-unread",
    "list": "msg-list",
    "page": "msg-page",
    "summary": "msg-summary",
    "read_all": "msg-read-all",
    "refresh": "msg-refresh",
    "prefs": "msg-prefs",
    "prefs_saved": "msg-prefs-saved",
    "requests": "msg-requests",
    "alert": "msg-alert",
    "read_one": "msg-read-one",
    "decide": "msg-decide",
}
GRP = {
    "list": "grp-list",
    "selected": "grp-selected",
    "item": "grp-item",
    "detail": "grp-detail",
    "name": "grp-name",
    "desc": "grp-desc",
    "create": "grp-create",
    "create_alert": "grp-create-alert",
    "add_user": "grp-add-user",
    "add": "grp-add",
    "remove": "grp-remove",
    "detail_alert": "grp-detail-alert",
}
FEED = {
    "text": "feed-text",
    "audience": "feed-audience",
    "resource": "feed-resource",
    "post": "feed-post",
    "alert": "feed-alert",
    "list": "feed-list",
    "refresh": "feed-refresh",
    "page": "feed-page",
    "like": "feed-like",
    "comment_text": "feed-comment-text",
    "comment_send": "feed-comment-send",
}
SHARE = {
    "resource": "share-resource",
    "users": "share-users",
    "groups": "share-groups",
    "message": "share-message",
    "send": "share-send",
    "alert": "share-alert",
}
ACCT = {
    "token_name": "acct-token-name",
    "token_days": "acct-token-days",
    "token_create": "acct-token-create",
    "token_new": "acct-token-new",
    "token_list": "acct-token-list",
    "token_revoke": "acct-token-revoke",
}


def locale() -> str:
    return str(get_locale() or "zh_CN")


def english() -> bool:
    return locale().startswith("en")


def kind_label(kind: str) -> str:
    return {
        "share": _("Shares"),
        "comment": _("Comments"),
        "answer": _("Answers"),
        "review": _("Reviews"),
        "access": _("Access requests"),
        "alert": _("Alerts"),
        "install": _("Installs"),
    }[kind]


def permission_label(permission: str) -> str:
    return {
        "view": _("View"),
        "edit": _("Edit"),
        "manage": _("Manage"),
        "unmask": _("See unmasked data"),
        "export": _("Export"),
    }.get(permission, permission)


when = format_time  # stored UTC, shown in the bank's time


def error_alert(exc: PortalError) -> dbc.Alert:
    return dbc.Alert(exc.message, color="danger", dismissable=True, className="mt-2 mb-0")


def ok_alert(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, duration=4000, className="mt-2 mb-0")


def _clicked() -> bool:
    """Return whether the callback was fired by a real click (not a component appearing)."""
    return any(t.get("value") for t in dash.ctx.triggered)


# -- the navbar badge ---------------------------------------------------------------------------
def _badge_state(count: int) -> tuple[str, str]:
    text = "99+" if count > 99 else str(count)
    return text, "message-badge" + ("" if count else " d-none")


def message_bell() -> html.Div:
    """The navbar's bell: a link to /messages with the unread count, refreshed every 60 s."""
    count = 0
    if current_user and current_user.is_authenticated:
        with get_db().session() as s:
            count = message_service.unread_count(s, current_user)
    text, class_name = _badge_state(count)
    return html.Div(
        [
            html.A(
                [
                    html.I(className="bi bi-bell"),
                    html.Span(text, id=BADGE, className=class_name),
                ],
                href="/messages",
                className="message-bell",
                title=_("Message center"),
                **{"aria-label": _("Message center")},
            ),
            dcc.Interval(id=BADGE_INTERVAL, interval=BADGE_INTERVAL_MS),
        ],
        className="message-bell-wrap me-lg-3 my-2 my-lg-0",
    )


def refresh_badge(_n):
    with get_db().session() as s:
        return _badge_state(message_service.unread_count(s, current_user))


# -- the message center -------------------------------------------------------------------------
def message_item(message: dict) -> html.Div:
    unread = not message["read"]
    actions = [html.Span(when(message["created_at"]), className="msg-time")]
    if message["link"]:
        actions.append(dcc.Link(_("Open"), href=message["link"], className="msg-action"))
    if unread:
        actions.append(
            html.Button(
                _("Mark as read"),
                id={"type": MSG["read_one"], "id": message["id"]},
                className="btn btn-link btn-sm msg-action p-0",
            )
        )
    return html.Div(
        [
            html.Div(
                html.I(className=f"bi bi-{KIND_ICONS.get(message['kind'], 'bell')}"),
                className=f"msg-icon msg-kind-{message['kind']}",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(message["title"], className="msg-title"),
                            html.Span(kind_label(message["kind"]), className="msg-kind-tag"),
                        ],
                        className="msg-head",
                    ),
                    html.Div(message["body"], className="msg-body") if message["body"] else None,
                    html.Div(actions, className="msg-actions"),
                ],
                className="msg-main",
            ),
        ],
        className="msg-item" + (" unread" if unread else ""),
    )


def render_messages(active_tab, unread_only, active_page, _refresh):
    trigger = dash.ctx.triggered_id
    page = 1 if trigger in (MSG["tabs"], MSG["unread"]) else (active_page or 1)
    kind = active_tab if active_tab in MESSAGE_KINDS else None
    with get_db().session() as s:
        result = message_service.list_messages(
            s, current_user, bool(unread_only), page, PER_PAGE, kind=kind
        )
        if not result["items"] and page > 1:
            page = 1
            result = message_service.list_messages(
                s, current_user, bool(unread_only), page, PER_PAGE, kind=kind
            )
        items = [message_service.message_dict(m, locale()) for m in result["items"]]
        unread = message_service.unread_count(s, current_user)
    pages = max(1, -(-result["total"] // PER_PAGE))
    if items:
        body = html.Div([message_item(m) for m in items], className="msg-list")
    else:
        body = html.Div(
            [html.I(className="bi bi-inbox"), html.Div(_("No messages here."))],
            className="empty-state",
        )
    summary = _(
        "%(total)d messages here; %(unread)d unread in all", total=result["total"], unread=unread
    )
    return body, pages, page, summary


def mark_messages_read(_one, _all):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = dash.ctx.triggered_id
    ids: Any = "all" if trigger == MSG["read_all"] else [trigger["id"]]
    with get_db().session() as s, s.begin():
        message_service.mark_read(s, current_user, ids)
        count = message_service.unread_count(s, current_user)
    text, class_name = _badge_state(count)
    return datetime.now().timestamp(), text, class_name


def save_preferences(enabled):
    if enabled is None:
        raise dash.exceptions.PreventUpdate
    changes = {kind: kind in enabled for kind in MESSAGE_KINDS}
    try:
        with get_db().session() as s, s.begin():
            message_service.set_preferences(s, current_user, changes)
    except PortalError as exc:
        return error_alert(exc)
    return html.Span([html.I(className="bi bi-check2 me-1"), _("Saved")], className="text-success")


def preference_options() -> list[dict]:
    return [{"label": kind_label(k), "value": k} for k in MESSAGE_KINDS]


def request_items(requests: list[dict], decidable: bool) -> html.Div:
    """Access requests as a list; with approve / reject buttons when the viewer decides."""
    if not requests:
        empty = _("Nothing waiting.") if decidable else _("You have not asked for access yet.")
        return html.Div(empty, className="text-muted small")
    rows = []
    for req in requests:
        title = req["resource_title_en"] if english() else req["resource_title_zh"]
        status = {
            "pending": _("Pending"),
            "approved": _("Approved"),
            "rejected": _("Rejected"),
        }[req["status"]]
        buttons = None
        if decidable and req["status"] == "pending":
            buttons = html.Div(
                [
                    dbc.Button(
                        _("Approve"),
                        id={"type": MSG["decide"], "id": req["id"], "approve": 1},
                        size="sm",
                        color="success",
                        className="me-2",
                    ),
                    dbc.Button(
                        _("Reject"),
                        id={"type": MSG["decide"], "id": req["id"], "approve": 0},
                        size="sm",
                        color="outline-danger",
                    ),
                ],
                className="mt-1",
            )
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(title or "—", className="fw-semibold me-2"),
                            dbc.Badge(
                                status,
                                color={"pending": "warning", "approved": "success"}.get(
                                    req["status"], "secondary"
                                ),
                                className="me-1",
                            ),
                        ]
                    ),
                    html.Div(
                        f"{req['requester'] or ''} · {permission_label(req['permission'])} · "
                        f"{when(req['created_at'])}",
                        className="small text-muted",
                    ),
                    html.Div(req["reason"], className="small request-reason")
                    if req["reason"]
                    else None,
                    buttons,
                ],
                className="request-item",
            )
        )
    return html.Div(rows)


def pending_requests_panel() -> html.Div:
    with get_db().session() as s:
        result = access_service.list_requests(s, current_user, "to_decide", "pending", 1, 50)
    return request_items(result["items"], decidable=True)


def my_requests_panel() -> html.Div:
    with get_db().session() as s:
        result = access_service.list_requests(s, current_user, "mine", None, 1, 10)
    return request_items(result["items"], decidable=False)


def decide_request(_clicks):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    trigger = dash.ctx.triggered_id
    approve = bool(trigger["approve"])
    try:
        with get_db().session() as s, s.begin():
            access_service.decide(s, current_user, trigger["id"], approve, None)
    except PortalError as exc:
        return pending_requests_panel(), error_alert(exc)
    text = _("Approved: the grant is in place.") if approve else _("Rejected.")
    return pending_requests_panel(), ok_alert(text)


# -- groups -------------------------------------------------------------------------------------
def user_options(exclude: set[int] | None = None) -> list[dict]:
    exclude = exclude or set()
    with get_db().session() as s:
        users = s.scalars(
            select(User).where(User.is_active).order_by(User.username).limit(1000)
        ).all()
    return [
        {"label": f"{u.display_name} ({u.username})", "value": u.id}
        for u in users
        if u.id not in exclude
    ]


def group_list(selected: int | None = None) -> html.Div:
    with get_db().session() as s:
        groups = [
            group_service.group_dict(s, g, current_user)
            for g in group_service.my_groups(s, current_user)
        ]
    if not groups:
        return html.Div(_("You are in no group yet: create one."), className="text-muted small")
    return html.Div(
        [
            html.Button(
                [
                    html.Div(
                        [
                            html.I(className="bi bi-people me-2"),
                            html.Span(g["name"], className="fw-semibold"),
                        ]
                    ),
                    html.Span(
                        _("%(n)d members", n=g["member_count"]), className="small text-muted"
                    ),
                ],
                id={"type": GRP["item"], "id": g["id"]},
                className="group-item list-group-item list-group-item-action"
                + (" active" if g["id"] == selected else ""),
            )
            for g in groups
        ],
        className="list-group group-list",
    )


def group_detail_panel(group_id: int | None) -> Any:
    if not group_id:
        return html.Div(
            _("Choose a group to see its members and posts."), className="text-muted small"
        )
    try:
        with get_db().session() as s:
            data = group_service.group_detail(s, current_user, group_id)
    except PortalError as exc:
        return error_alert(exc)
    members = []
    for m in data["members"]:
        remove = None
        mine = m["id"] == current_user.id
        if m["id"] != data["owner_id"] and (data["can_manage"] or mine):
            label = _("Leave") if mine else _("Remove")
            remove = html.Button(
                label,
                id={"type": GRP["remove"], "id": m["id"]},
                className="btn btn-link btn-sm text-danger p-0 ms-auto",
            )
        members.append(
            html.Div(
                [
                    html.I(className="bi bi-person-circle me-2 text-muted"),
                    html.Span(m["display_name"]),
                    html.Span(f" ({m['username']})", className="text-muted small ms-1"),
                    dbc.Badge(_("Owner"), color="primary", className="ms-2")
                    if m["id"] == data["owner_id"]
                    else None,
                    remove,
                ],
                className="member-row",
            )
        )
    adder = None
    if data["can_manage"]:
        member_ids = {m["id"] for m in data["members"]}
        adder = dbc.InputGroup(
            [
                dcc.Dropdown(
                    id=GRP["add_user"],
                    options=user_options(member_ids),
                    placeholder=_("Add a member…"),
                    className="flex-grow-1 member-picker",
                ),
                dbc.Button(_("Add"), id=GRP["add"], color="primary"),
            ],
            className="mt-2 flex-nowrap",
        )
    return html.Div(
        [
            html.Div(data["name"], className="fw-semibold"),
            html.Div(data["description"], className="small text-muted mb-2")
            if data["description"]
            else None,
            html.Div(members, className="member-list"),
            adder,
        ]
    )


def select_group(_clicks, current):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    group_id = dash.ctx.triggered_id["id"]
    group_id = None if group_id == current else group_id
    return group_id, group_list(group_id), group_detail_panel(group_id)


def create_group(_n, name, description):
    if not _n:
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            group = group_service.create_group(s, current_user, name, description or None)
            group_id = group.id
    except PortalError as exc:
        return dash.no_update, error_alert(exc), dash.no_update, dash.no_update, dash.no_update
    return (
        group_list(group_id),
        ok_alert(_("The group was created.")),
        "",
        "",
        group_id,
    )


def change_members(_add, _remove, group_id, user_id):
    if not _clicked() or not group_id:
        raise dash.exceptions.PreventUpdate
    trigger = dash.ctx.triggered_id
    try:
        with get_db().session() as s, s.begin():
            if trigger == GRP["add"]:
                if not user_id:
                    raise dash.exceptions.PreventUpdate
                group_service.add_members(s, current_user, group_id, [user_id])
            else:
                group_service.remove_members(s, current_user, group_id, [trigger["id"]])
    except PortalError as exc:
        return group_detail_panel(group_id), error_alert(exc), dash.no_update
    return group_detail_panel(group_id), None, group_list(group_id)


def audience_options() -> list[dict]:
    with get_db().session() as s:
        groups = group_service.my_groups(s, current_user)
        member_of = group_service.my_group_ids(s, current_user)
    options = [{"label": _("Everyone (public)"), "value": "public"}]
    options += [
        {"label": _("Group: %(name)s", name=g.name), "value": str(g.id)}
        for g in groups
        if g.id in member_of
    ]
    return options


def sync_audience(group_id):
    """Post to the chosen group by default (its feed is the one shown), else publicly."""
    options = audience_options()
    value = str(group_id) if group_id else "public"
    return options, value if any(o["value"] == value for o in options) else "public"


def shareable_resources() -> list[dict]:
    """Options of the resources the user may share (owned, or managed through a grant)."""
    with get_db().session() as s:
        managed = access_service.managed_resource_ids(s, current_user)  # owned ones included
        query = (
            select(Resource)
            .where(Resource.id.in_(managed))
            .order_by(Resource.updated_at.desc())
            .limit(500)
        )
        resources = s.scalars(query).all()
    return [
        {"label": f"{r.title_en if english() else r.title_zh} · {r.type}", "value": r.id}
        for r in resources
    ]


def group_options() -> list[dict]:
    with get_db().session() as s:
        groups = s.scalars(select(Group).order_by(Group.name).limit(500)).all()
    return [{"label": g.name, "value": g.id} for g in groups]


def post_card(post: dict) -> dbc.Card:
    author = post["author"] or {}
    comments = [
        html.Div(
            [
                html.Span(
                    (c["author"] or {}).get("display_name", ""), className="fw-semibold me-2"
                ),
                html.Span(c["text"], className="comment-text"),
                html.Span(when(c["created_at"]), className="comment-time ms-2"),
            ],
            className="comment",
        )
        for c in post["comments"]
    ]
    resource = post["resource"]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Div((author.get("display_name") or "?")[:1], className="avatar me-2"),
                        html.Div(
                            [
                                html.Div(author.get("display_name", ""), className="fw-semibold"),
                                html.Div(
                                    [
                                        when(post["created_at"]),
                                        " · ",
                                        post["group_name"] or _("Public"),
                                    ],
                                    className="small text-muted",
                                ),
                            ]
                        ),
                    ],
                    className="d-flex align-items-center mb-2",
                ),
                html.Div(post["text"], className="post-text"),
                dcc.Link(
                    [html.I(className="bi bi-link-45deg me-1"), resource["title"]],
                    href=resource["link"],
                    className="post-resource",
                )
                if resource
                else None,
                html.Div(
                    [
                        html.Button(
                            [
                                html.I(
                                    className="bi bi-hand-thumbs-up"
                                    + ("-fill" if post["liked"] else "")
                                    + " me-1"
                                ),
                                _("Like"),
                                f" {post['likes']}" if post["likes"] else "",
                            ],
                            id={"type": FEED["like"], "id": post["id"]},
                            className="btn btn-sm post-like" + (" liked" if post["liked"] else ""),
                        ),
                        html.Span(
                            [html.I(className="bi bi-chat-left me-1"), str(len(comments))],
                            className="small text-muted ms-2",
                        ),
                    ],
                    className="post-actions",
                ),
                html.Div(comments, className="comments") if comments else None,
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id={"type": FEED["comment_text"], "id": post["id"]},
                            placeholder=_("Write a comment…"),
                            maxLength=sharing_service.COMMENT_MAX,
                            size="sm",
                        ),
                        dbc.Button(
                            _("Send"),
                            id={"type": FEED["comment_send"], "id": post["id"]},
                            size="sm",
                            color="outline-primary",
                        ),
                    ],
                    className="mt-2",
                    size="sm",
                ),
            ]
        ),
        className="post-card mb-3",
    )


def render_feed(_refresh, group_id, page):
    page = 1 if dash.ctx.triggered_id == GRP["selected"] else (page or 1)
    try:
        with get_db().session() as s:
            result = sharing_service.feed(s, current_user, group_id, page, FEED_PER_PAGE, locale())
    except PortalError as exc:
        return error_alert(exc), 1, 1
    pages = max(1, -(-result["total"] // FEED_PER_PAGE))
    if not result["items"]:
        return (
            html.Div(
                [html.I(className="bi bi-chat-square-text"), html.Div(_("No posts yet."))],
                className="empty-state",
            ),
            pages,
            page,
        )
    return html.Div([post_card(p) for p in result["items"]]), pages, page


def publish_post(_n, text, audience, resource_id):
    if not _n:
        raise dash.exceptions.PreventUpdate
    group_id = int(audience) if audience and audience != "public" else None
    try:
        with get_db().session() as s, s.begin():
            sharing_service.create_post(s, current_user, text, group_id, resource_id or None)
    except PortalError as exc:
        return error_alert(exc), dash.no_update, dash.no_update
    return ok_alert(_("Posted.")), "", datetime.now().timestamp()


def like_post(_clicks):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            sharing_service.toggle_like(s, current_user, dash.ctx.triggered_id["id"])
    except PortalError as exc:
        return dash.no_update, error_alert(exc)
    return datetime.now().timestamp(), None


def send_comment(_clicks, texts):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    post_id = dash.ctx.triggered_id["id"]
    ids = [i["id"]["id"] for i in dash.ctx.states_list[0]]
    text = texts[ids.index(post_id)] if post_id in ids else None
    try:
        with get_db().session() as s, s.begin():
            sharing_service.add_comment(s, current_user, post_id, text)
    except PortalError as exc:
        return dash.no_update, error_alert(exc)
    return datetime.now().timestamp(), None


def share(_n, resource_id, user_ids, group_ids, message):
    if not _n:
        raise dash.exceptions.PreventUpdate
    if not resource_id:
        return dbc.Alert(_("Choose what to share."), color="warning", className="mt-2 mb-0")
    try:
        with get_db().session() as s, s.begin():
            shares = sharing_service.share_resource(
                s, current_user, resource_id, user_ids or [], group_ids or [], message or ""
            )
    except PortalError as exc:
        return error_alert(exc)
    return ok_alert(_("Shared with %(n)d recipients.", n=len(shares)))


# -- the account page ---------------------------------------------------------------------------
def token_table() -> Any:
    with get_db().session() as s:
        tokens = [token_service.token_dict(t) for t in token_service.list_tokens(s, current_user)]
    if not tokens:
        return html.Div(_("No tokens yet."), className="text-muted small")
    rows = []
    for t in tokens:
        if t["revoked_at"]:
            status = dbc.Badge(_("Revoked"), color="secondary")
        elif not t["active"]:
            status = dbc.Badge(_("Expired"), color="warning")
        else:
            status = dbc.Badge(_("Active"), color="success")
        rows.append(
            html.Tr(
                [
                    html.Td(t["name"]),
                    html.Td(html.Code(t["prefix"] + "…")),
                    html.Td(when(t["created_at"]), className="d-none d-md-table-cell"),
                    html.Td(when(t["expires_at"])),
                    html.Td(when(t["last_used_at"]) or "—", className="d-none d-md-table-cell"),
                    html.Td(status),
                    html.Td(
                        html.Button(
                            _("Revoke"),
                            id={"type": ACCT["token_revoke"], "id": t["id"]},
                            className="btn btn-link btn-sm text-danger p-0",
                        )
                        if t["active"]
                        else None
                    ),
                ]
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(_("Token name")),
                html.Th(_("Token")),
                html.Th(_("Created"), className="d-none d-md-table-cell"),
                html.Th(_("Expires")),
                html.Th(_("Last used"), className="d-none d-md-table-cell"),
                html.Th(_("Status")),
                html.Th(""),
            ]
        )
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True)


def create_token(_n, name, days):
    if not _n:
        raise dash.exceptions.PreventUpdate
    try:
        days = int(days or token_service.DEFAULT_DAYS)
        with get_db().session() as s, s.begin():
            _token, secret = token_service.create_token(s, current_user, name, days)
    except PortalError as exc:
        return error_alert(exc), dash.no_update, dash.no_update
    new = dbc.Alert(
        [
            html.Div(
                _("Copy the token now: it will not be shown again."), className="fw-semibold mb-2"
            ),
            html.Div(
                [
                    html.Code(secret, id="acct-token-secret", className="token-secret"),
                    dcc.Clipboard(target_id="acct-token-secret", className="ms-2 token-copy"),
                ],
                className="d-flex align-items-center",
            ),
            html.Div(
                _("Use it as: Authorization: Bearer <token>, on /api/v1 only."),
                className="small text-muted mt-2",
            ),
        ],
        color="info",
        className="mt-3",
    )
    return new, token_table(), ""


def revoke_token(_clicks):
    if not _clicked():
        raise dash.exceptions.PreventUpdate
    try:
        with get_db().session() as s, s.begin():
            token_service.revoke_token(s, current_user, dash.ctx.triggered_id["id"])
    except PortalError as exc:
        return token_table(), error_alert(exc)
    return token_table(), ok_alert(_("The token was revoked."))


# -- registration -------------------------------------------------------------------------------
def register(app: dash.Dash) -> None:
    app.callback(
        Output(BADGE, "children"),
        Output(BADGE, "className"),
        Input(BADGE_INTERVAL, "n_intervals"),
        prevent_initial_call=True,
    )(refresh_badge)

    app.callback(
        Output(MSG["list"], "children"),
        Output(MSG["page"], "max_value"),
        Output(MSG["page"], "active_page"),
        Output(MSG["summary"], "children"),
        Input(MSG["tabs"], "active_tab"),
        Input(MSG["unread"], "value"),
        Input(MSG["page"], "active_page"),
        Input(MSG["refresh"], "data"),
    )(render_messages)

    app.callback(
        Output(MSG["refresh"], "data"),
        Output(BADGE, "children", allow_duplicate=True),
        Output(BADGE, "className", allow_duplicate=True),
        Input({"type": MSG["read_one"], "id": ALL}, "n_clicks"),
        Input(MSG["read_all"], "n_clicks"),
        prevent_initial_call=True,
    )(mark_messages_read)

    app.callback(
        Output(MSG["prefs_saved"], "children"),
        Input(MSG["prefs"], "value"),
        prevent_initial_call=True,
    )(save_preferences)

    app.callback(
        Output(MSG["requests"], "children"),
        Output(MSG["alert"], "children"),
        Input({"type": MSG["decide"], "id": ALL, "approve": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(decide_request)

    app.callback(
        Output(GRP["selected"], "data"),
        Output(GRP["list"], "children"),
        Output(GRP["detail"], "children"),
        Input({"type": GRP["item"], "id": ALL}, "n_clicks"),
        State(GRP["selected"], "data"),
        prevent_initial_call=True,
    )(select_group)

    app.callback(
        Output(GRP["list"], "children", allow_duplicate=True),
        Output(GRP["create_alert"], "children"),
        Output(GRP["name"], "value"),
        Output(GRP["desc"], "value"),
        Output(GRP["selected"], "data", allow_duplicate=True),
        Input(GRP["create"], "n_clicks"),
        State(GRP["name"], "value"),
        State(GRP["desc"], "value"),
        prevent_initial_call=True,
    )(create_group)

    app.callback(
        Output(GRP["detail"], "children", allow_duplicate=True),
        Output(GRP["detail_alert"], "children"),
        Output(GRP["list"], "children", allow_duplicate=True),
        Input(GRP["add"], "n_clicks"),
        Input({"type": GRP["remove"], "id": ALL}, "n_clicks"),
        State(GRP["selected"], "data"),
        State(GRP["add_user"], "value"),
        prevent_initial_call=True,
    )(change_members)

    app.callback(
        Output(FEED["list"], "children"),
        Output(FEED["page"], "max_value"),
        Output(FEED["page"], "active_page"),
        Input(FEED["refresh"], "data"),
        Input(GRP["selected"], "data"),
        Input(FEED["page"], "active_page"),
    )(render_feed)

    app.callback(
        Output(FEED["audience"], "options"),
        Output(FEED["audience"], "value"),
        Input(GRP["selected"], "data"),
        prevent_initial_call=True,
    )(sync_audience)

    app.callback(
        Output(FEED["alert"], "children"),
        Output(FEED["text"], "value"),
        Output(FEED["refresh"], "data"),
        Input(FEED["post"], "n_clicks"),
        State(FEED["text"], "value"),
        State(FEED["audience"], "value"),
        State(FEED["resource"], "value"),
        prevent_initial_call=True,
    )(publish_post)

    app.callback(
        Output(FEED["refresh"], "data", allow_duplicate=True),
        Output(FEED["alert"], "children", allow_duplicate=True),
        Input({"type": FEED["like"], "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(like_post)

    app.callback(
        Output(FEED["refresh"], "data", allow_duplicate=True),
        Output(FEED["alert"], "children", allow_duplicate=True),
        Input({"type": FEED["comment_send"], "id": ALL}, "n_clicks"),
        State({"type": FEED["comment_text"], "id": ALL}, "value"),
        prevent_initial_call=True,
    )(send_comment)

    app.callback(
        Output(SHARE["alert"], "children"),
        Input(SHARE["send"], "n_clicks"),
        State(SHARE["resource"], "value"),
        State(SHARE["users"], "value"),
        State(SHARE["groups"], "value"),
        State(SHARE["message"], "value"),
        prevent_initial_call=True,
    )(share)

    app.callback(
        Output(ACCT["token_new"], "children"),
        Output(ACCT["token_list"], "children"),
        Output(ACCT["token_name"], "value"),
        Input(ACCT["token_create"], "n_clicks"),
        State(ACCT["token_name"], "value"),
        State(ACCT["token_days"], "value"),
        prevent_initial_call=True,
    )(create_token)

    app.callback(
        Output(ACCT["token_list"], "children", allow_duplicate=True),
        Output(ACCT["token_new"], "children", allow_duplicate=True),
        Input({"type": ACCT["token_revoke"], "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(revoke_token)
