"""The social API (SPEC §6.2, §6.3): groups, shares, the activity feed, the message center,
access requests and personal API tokens. Lists are paginated with ?page=&per_page= and answer
{"items", "total", "page", "per_page"}; errors are {"error": {"code", "message"}}.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.openapi import PAGING_PARAMETERS, json_request_body, query_parameter
from api.request_helpers import (
    int_arg,
    json_body,
    logged_in_user,
    optional_json_body,
    request_locale,
)
from portal.db import get_db
from portal.errors import Forbidden, Invalid
from portal.models import Group
from portal.models.social import MESSAGE_KINDS
from portal.services import access_requests as access_service
from portal.services import api_tokens as token_service
from portal.services import groups as group_service
from portal.services import messages as message_service
from portal.services import sharing as sharing_service

bp = Blueprint("social_api", __name__)
CREATED = {"201": {"description": "Created"}}


def _paging() -> tuple[int, int]:
    return message_service.check_paging(int_arg("page", 1), int_arg("per_page", 20))


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


# -- groups -------------------------------------------------------------------------------------
@bp.get("/groups")
def list_groups():
    """List my groups (?all=1: every group, without members)."""
    page, per_page = _paging()
    user = logged_in_user()
    with get_db().session() as s:
        if _flag("all"):
            total = s.scalar(select(func.count(Group.id)))
            groups = list(
                s.scalars(
                    select(Group)
                    .order_by(Group.name)
                    .limit(per_page)
                    .offset((page - 1) * per_page)
                    .options(selectinload(Group.members))
                )
            )
        else:
            mine = group_service.my_groups(s, user)
            total, groups = len(mine), mine[(page - 1) * per_page : page * per_page]
        items = [group_service.group_dict(s, grp, user) for grp in groups]
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


list_groups.openapi = {"parameters": [*PAGING_PARAMETERS, query_parameter("all", "boolean")]}


@bp.post("/groups")
def create_group():
    """Create a group; the caller owns it and is its first member."""
    body = json_body()
    with get_db().session() as s, s.begin():
        group = group_service.create_group(
            s, logged_in_user(), body.get("name"), body.get("description")
        )
        data = group_service.group_dict(s, group, logged_in_user(), with_members=True)
    return jsonify(data), 201


create_group.openapi = {
    "responses": CREATED,
    "requestBody": json_request_body(
        {
            "name": {"type": "string", "maxLength": 100},
            "description": {"type": "string"},
        },
        ["name"],
    ),
}


@bp.get("/groups/<int:group_id>")
def get_group(group_id: int):
    """Show a group with its members (members, its owner and administrators only)."""
    with get_db().session() as s:
        return jsonify(group_service.group_detail(s, logged_in_user(), group_id))


def _member_ids() -> Any:
    body = request.get_json(silent=True)
    if isinstance(body, dict) and "user_ids" in body:
        return body["user_ids"]
    if request.args.get("user_id"):
        return [int_arg("user_id", None)]
    raise Invalid(_("Send a list of user ids."), code="bad_user_ids")


MEMBERS_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"user_ids": {"type": "array", "items": {"type": "integer"}}},
                }
            }
        }
    }
}


@bp.post("/groups/<int:group_id>/members")
def add_group_members(group_id: int):
    """Add members to a group (its owner or a system administrator)."""
    with get_db().session() as s, s.begin():
        group = group_service.add_members(s, logged_in_user(), group_id, _member_ids())
        data = group_service.group_dict(s, group, logged_in_user(), with_members=True)
    return jsonify(data)


@bp.delete("/groups/<int:group_id>/members")
def remove_group_members(group_id: int):
    """Remove members ({"user_ids"} or ?user_id=); anyone may remove themself (leave)."""
    with get_db().session() as s, s.begin():
        group = group_service.remove_members(s, logged_in_user(), group_id, _member_ids())
        data = group_service.group_dict(s, group, logged_in_user(), with_members=True)
    return jsonify(data)


add_group_members.openapi = remove_group_members.openapi = MEMBERS_BODY


# -- shares -------------------------------------------------------------------------------------
@bp.post("/shares")
def share():
    """Share a resource with users and/or groups with a message (gives them view)."""
    body = json_body()
    with get_db().session() as s, s.begin():
        shares = sharing_service.share_resource(
            s,
            logged_in_user(),
            body.get("resource_id"),
            user_ids=body.get("user_ids"),
            group_ids=body.get("group_ids"),
            message=body.get("message", ""),
        )
        items = [sharing_service.share_dict(x) for x in shares]
    return jsonify({"items": items}), 201


share.openapi = {
    "responses": CREATED,
    "requestBody": json_request_body(
        {
            "resource_id": {"type": "integer"},
            "user_ids": {"type": "array", "items": {"type": "integer"}},
            "group_ids": {"type": "array", "items": {"type": "integer"}},
            "message": {"type": "string", "maxLength": 1000},
        },
        ["resource_id"],
    ),
}


# -- the feed -----------------------------------------------------------------------------------
@bp.get("/feed")
def get_feed():
    """List the posts I may see (public and my groups'), newest first (?group_id=)."""
    page, per_page = _paging()
    with get_db().session() as s:
        data = sharing_service.feed(
            s, logged_in_user(), int_arg("group_id", None), page, per_page, request_locale()
        )
    return jsonify(data)


get_feed.openapi = {"parameters": [*PAGING_PARAMETERS, query_parameter("group_id", "integer")]}


@bp.post("/feed")
def create_post():
    """Publish a post: {"text", "group_id"?, "resource_id"?}."""
    body = json_body()
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        post = sharing_service.create_post(
            s, user, body.get("text"), body.get("group_id"), body.get("resource_id")
        )
        data = sharing_service.posts_data(s, user, [post], request_locale())[0]
    return jsonify(data), 201


create_post.openapi = {
    "responses": CREATED,
    "requestBody": json_request_body(
        {
            "text": {"type": "string", "maxLength": 2000},
            "group_id": {"type": ["integer", "null"]},
            "resource_id": {"type": ["integer", "null"]},
        },
        ["text"],
    ),
}


@bp.post("/feed/<int:post_id>/like")
def like_post(post_id: int):
    """Like or unlike a post ({"liked": true|false}; no body toggles)."""
    liked = optional_json_body().get("liked")
    if liked is not None and not isinstance(liked, bool):
        raise Invalid(_("liked must be true or false."), code="bad_liked")
    with get_db().session() as s, s.begin():
        data = sharing_service.toggle_like(s, logged_in_user(), post_id, liked)
    return jsonify(data)


@bp.post("/feed/<int:post_id>/comments")
def comment_post(post_id: int):
    """Comment on a post: {"text"} (stored and returned as plain text)."""
    body = json_body()
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        comment = sharing_service.add_comment(s, user, post_id, body.get("text"))
        data = sharing_service.comment_dict(comment, {user.id: user})
    return jsonify(data), 201


comment_post.openapi = {"responses": CREATED}


# -- messages -----------------------------------------------------------------------------------
@bp.get("/messages")
def list_messages():
    """List my messages, newest first (?unread=1, ?kind=share|comment|...)."""
    page, per_page = _paging()
    locale = request_locale()
    with get_db().session() as s:
        result = message_service.list_messages(
            s,
            logged_in_user(),
            unread_only=_flag("unread"),
            page=page,
            per_page=per_page,
            kind=request.args.get("kind") or None,
        )
        result["items"] = [message_service.message_dict(m, locale) for m in result["items"]]
        result["unread"] = message_service.unread_count(s, logged_in_user())
    return jsonify(result)


list_messages.openapi = {
    "parameters": [
        *PAGING_PARAMETERS,
        query_parameter("unread", "boolean"),
        query_parameter("kind", "string", list(MESSAGE_KINDS)),
    ]
}


@bp.post("/messages/read")
def read_messages():
    """Mark messages read: {"ids": [..]} or {"ids": "all"}."""
    body = json_body()
    if "ids" not in body:
        raise Invalid(_('Send a list of message ids or "all".'), code="bad_ids")
    with get_db().session() as s, s.begin():
        updated = message_service.mark_read(s, logged_in_user(), body["ids"])
        unread = message_service.unread_count(s, logged_in_user())
    return jsonify({"updated": updated, "unread": unread})


read_messages.openapi = {
    "requestBody": json_request_body(
        {
            "ids": {
                "oneOf": [
                    {"type": "array", "items": {"type": "integer"}},
                    {"const": "all"},
                ]
            }
        },
        ["ids"],
    ),
}


@bp.get("/messages/preferences")
def get_message_preferences():
    """Show which message kinds I receive."""
    with get_db().session() as s:
        return jsonify({"preferences": message_service.get_preferences(s, logged_in_user())})


@bp.put("/messages/preferences")
def put_message_preferences():
    """Turn message kinds on or off: {"share": true, "alert": false, ...}."""
    body = json_body()
    changes = body.get("preferences", body)
    with get_db().session() as s, s.begin():
        prefs = message_service.set_preferences(s, logged_in_user(), changes)
    return jsonify({"preferences": prefs})


@bp.get("/messages/unread-count")
def unread_count():
    """Count my unread messages (in total and per kind)."""
    with get_db().session() as s:
        user = logged_in_user()
        return jsonify(
            {
                "unread": message_service.unread_count(s, user),
                "by_kind": message_service.unread_by_kind(s, user),
            }
        )


# -- access requests ----------------------------------------------------------------------------
@bp.post("/access-requests")
def create_access_request():
    """Ask for a permission on a resource: {"resource_id", "permission"?, "reason"?}."""
    body = json_body()
    with get_db().session() as s, s.begin():
        req = access_service.request_access(
            s,
            logged_in_user(),
            body.get("resource_id"),
            body.get("permission", "view"),
            body.get("reason", ""),
        )
        data = access_service.requests_data(s, [req])[0]
    return jsonify(data), 201


create_access_request.openapi = {"responses": CREATED}


@bp.get("/access-requests")
def list_access_requests():
    """List access requests: ?scope=mine (default) or to_decide, ?status=pending|..."""
    page, per_page = _paging()
    with get_db().session() as s:
        data = access_service.list_requests(
            s,
            logged_in_user(),
            request.args.get("scope", "mine"),
            request.args.get("status") or None,
            page,
            per_page,
        )
    return jsonify(data)


list_access_requests.openapi = {
    "parameters": [
        *PAGING_PARAMETERS,
        query_parameter("scope", "string", ["mine", "to_decide"]),
        query_parameter("status", "string", ["pending", "approved", "rejected"]),
    ]
}


@bp.post("/access-requests/<int:request_id>/decision")
def decide_access_request(request_id: int):
    """Approve or reject a request: {"approve": true|false, "note"?}."""
    body = json_body()
    with get_db().session() as s, s.begin():
        req = access_service.decide(
            s, logged_in_user(), request_id, body.get("approve"), body.get("note")
        )
        data = access_service.requests_data(s, [req])[0]
    return jsonify(data)


# -- personal API tokens ------------------------------------------------------------------------
@bp.get("/tokens")
def list_tokens():
    """List my personal API tokens (never their secrets)."""
    with get_db().session() as s:
        items = [
            token_service.token_dict(t) for t in token_service.list_tokens(s, logged_in_user())
        ]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/tokens")
def create_token():
    """Create a token {"name", "expires_in_days"?}; its secret is in this answer only."""
    if g.get("token_auth"):
        raise Forbidden(
            _("A token cannot create tokens; log in to create one."), code="token_not_allowed"
        )
    body = json_body()
    with get_db().session() as s, s.begin():
        token, secret = token_service.create_token(
            s,
            logged_in_user(),
            body.get("name"),
            body.get("expires_in_days", token_service.DEFAULT_DAYS),
        )
        data = token_service.token_dict(token)
    return jsonify({**data, "token": secret}), 201


create_token.openapi = {"responses": CREATED}


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    """Revoke one of my tokens."""
    with get_db().session() as s, s.begin():
        data = token_service.token_dict(token_service.revoke_token(s, logged_in_user(), token_id))
    return jsonify(data)
