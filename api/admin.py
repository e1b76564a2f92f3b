"""The administration API for the system administrator (role `admin`): users, roles, groups.

Grants are not here: they are the security administrator's (三权分立; see api and
portal/services/grants.py). Every route answers 403 `not_system_admin` to other users.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from api.openapi import PAGING_PARAMETERS, json_request_body, query_parameter
from api.request_helpers import json_body, logged_in_user
from portal.db import get_db
from portal.services import admin_users
from portal.services import groups as group_service
from portal.services.messages import check_paging

bp = Blueprint("admin_api", __name__)


def _paging() -> tuple[int, int]:
    return check_paging(request.args.get("page", 1), request.args.get("per_page", 20))


@bp.get("/admin/users")
def list_users():
    """List accounts (?q= filters by user name, display name or employee number)."""
    admin_users.check_admin(logged_in_user())
    page, per_page = _paging()
    with get_db().session() as s:
        return jsonify(
            admin_users.list_users(s, logged_in_user(), request.args.get("q"), page, per_page)
        )


list_users.openapi = {"parameters": [*PAGING_PARAMETERS, query_parameter("q", "string")]}


@bp.post("/admin/users")
def create_user():
    """Create an account: {"username", "display_name", "branch_id", "roles", ...}."""
    admin_users.check_admin(logged_in_user())
    body = json_body()
    with get_db().session() as s, s.begin():
        data = admin_users.user_dict(admin_users.admin_create_user(s, logged_in_user(), body))
    return jsonify(data), 201


create_user.openapi = {
    "responses": {"201": {"description": "Created"}},
    "requestBody": json_request_body(
        {
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "branch_id": {"type": "string"},
            "department_code": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}},
            "employee_no": {"type": "string"},
            "email": {"type": "string"},
            "language": {"enum": ["zh_CN", "en"]},
            "password": {"type": "string"},
        },
        ["username", "display_name", "branch_id"],
    ),
}


@bp.patch("/admin/users/<int:user_id>")
def update_user(user_id: int):
    """Change an account's profile or disable / enable it ({"is_active": false})."""
    admin_users.check_admin(logged_in_user())
    body = json_body()
    with get_db().session() as s, s.begin():
        data = admin_users.user_dict(admin_users.update_user(s, logged_in_user(), user_id, body))
    return jsonify(data)


@bp.put("/admin/users/<int:user_id>/roles")
def set_user_roles(user_id: int):
    """Replace an account's roles: {"roles": ["analyst", ...]}."""
    admin_users.check_admin(logged_in_user())
    body = json_body()
    with get_db().session() as s, s.begin():
        data = admin_users.user_dict(
            admin_users.set_roles(s, logged_in_user(), user_id, body.get("roles"))
        )
    return jsonify(data)


@bp.get("/admin/roles")
def list_roles():
    """List the roles."""
    with get_db().session() as s:
        items = admin_users.list_roles(s, logged_in_user())
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/admin/groups")
def list_groups():
    """List every group with its members."""
    admin_users.check_admin(logged_in_user())
    page, per_page = _paging()
    with get_db().session() as s:
        return jsonify(admin_users.list_all_groups(s, logged_in_user(), page, per_page))


list_groups.openapi = {"parameters": PAGING_PARAMETERS}


@bp.post("/admin/groups")
def create_group():
    """Create a group: {"name", "description"?, "owner_id"?, "member_ids"?}."""
    admin_users.check_admin(logged_in_user())
    body = json_body()
    with get_db().session() as s, s.begin():
        group = admin_users.admin_create_group(s, logged_in_user(), body)
        data = group_service.group_dict(s, group, logged_in_user(), with_members=True)
    return jsonify(data), 201


create_group.openapi = {"responses": {"201": {"description": "Created"}}}


@bp.patch("/admin/groups/<int:group_id>")
def update_group(group_id: int):
    """Change a group: {"name"?, "description"?, "owner_id"?, "member_ids"?}."""
    admin_users.check_admin(logged_in_user())
    body = json_body()
    with get_db().session() as s, s.begin():
        group = admin_users.admin_update_group(s, logged_in_user(), group_id, body)
        data = group_service.group_dict(s, group, logged_in_user(), with_members=True)
    return jsonify(data)


@bp.delete("/admin/groups/<int:group_id>")
def delete_group(group_id: int):
    """Delete a group (and the grants and shares naming it)."""
    admin_users.check_admin(logged_in_user())
    with get_db().session() as s, s.begin():
        admin_users.admin_delete_group(s, logged_in_user(), group_id)
    return "", 204


delete_group.openapi = {"responses": {"204": {"description": "Deleted"}}}
