"""The administration API: users, roles and groups, for the system administrator only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import get_db
from portal.models import AuditEvent, Grant, Group, Resource, User
from tests.conftest import DEMO_PASSWORD, login

ROUTES = [
    ("GET", "/api/v1/admin/users"),
    ("POST", "/api/v1/admin/users"),
    ("PATCH", "/api/v1/admin/users/1"),
    ("PUT", "/api/v1/admin/users/1/roles"),
    ("GET", "/api/v1/admin/roles"),
    ("GET", "/api/v1/admin/groups"),
    ("POST", "/api/v1/admin/groups"),
    ("PATCH", "/api/v1/admin/groups/1"),
    ("DELETE", "/api/v1/admin/groups/1"),
]
NEW_USER = {
    "username": "gz_cm",
    "display_name": "黄磊",
    "branch_id": "HO",
    "roles": ["customer_manager"],
    "password": "Welcome#2026x",
}


def _uid(app, username: str) -> int:
    with app.app_context(), get_db().session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def _error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    if code:
        assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_callers_get_401(anonymous, method, url):
    _error(anonymous.open(url, method=method, json={}), 401, "unauthorized")


# Every route for the security administrator (三权分立), one route for other users.
FORBIDDEN_CASES = [("security", method, url) for method, url in ROUTES] + [
    (user, "GET", "/api/v1/admin/users") for user in ("auditor", "leader", "bj_cm")
]


@pytest.mark.parametrize(("username", "method", "url"), FORBIDDEN_CASES)
def test_only_the_system_administrator_may_administer(client_as, username, method, url):
    _error(client_as(username).open(url, method=method, json={}), 403, "not_system_admin")


def test_list_and_create_users(app, client_as, anonymous):
    admin = client_as("admin")
    listed = admin.get("/api/v1/admin/users?per_page=5").get_json()
    assert listed["total"] == 10 and len(listed["items"]) == 5 and listed["per_page"] == 5
    assert "password_hash" not in listed["items"][0]
    found = admin.get("/api/v1/admin/users?q=bj_").get_json()["items"]
    assert {u["username"] for u in found} == {"bj_cm", "bj_leader"}
    _error(admin.get("/api/v1/admin/users?page=0"), 422, "bad_page")

    created = admin.post("/api/v1/admin/users", json=NEW_USER)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["roles"] == ["customer_manager"]
    login(anonymous, "gz_cm", NEW_USER["password"])

    _error(admin.post("/api/v1/admin/users", json=NEW_USER), 422, "duplicate")
    _error(
        admin.post("/api/v1/admin/users", json={**NEW_USER, "username": "x1", "roles": ["god"]}),
        422,
    )
    _error(
        admin.post(
            "/api/v1/admin/users",
            json={**NEW_USER, "username": "x2", "roles": ["admin", "auditor"]},
        ),
        422,
        "separation_of_duties",
    )
    _error(
        admin.post("/api/v1/admin/users", json={**NEW_USER, "username": "x3", "branch_id": "ZZ"}),
        422,
    )
    _error(admin.post("/api/v1/admin/users", json={"username": "x4"}), 422, "missing_field")
    _error(admin.post("/api/v1/admin/users", data="x"), 422, "invalid_json")
    with app.app_context(), get_db().session() as s:
        assert s.scalar(select(User.id).where(User.username.in_(["x1", "x2", "x3", "x4"]))) is None


def test_disable_enable_and_profile_changes(app, client_as, anonymous):
    admin = client_as("admin")
    bj = _uid(app, "bj_cm")
    disabled = admin.patch(f"/api/v1/admin/users/{bj}", json={"is_active": False})
    assert disabled.status_code == 200 and disabled.get_json()["is_active"] is False
    refused = anonymous.post(
        "/api/v1/auth/login", json={"username": "bj_cm", "password": DEMO_PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "account_disabled"
    admin.patch(f"/api/v1/admin/users/{bj}", json={"is_active": True, "display_name": "吴昊昊"})
    assert login(anonymous, "bj_cm").status_code == 200
    with app.app_context(), get_db().session() as s:
        assert s.get(User, bj).display_name == "吴昊昊"
        events = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "user_update")).all()
        assert len(events) == 2

    _error(admin.patch("/api/v1/admin/users/99999", json={"is_active": False}), 404)
    _error(
        admin.patch(f"/api/v1/admin/users/{_uid(app, 'admin')}", json={"is_active": False}),
        422,
        "self_disable",
    )
    _error(admin.patch(f"/api/v1/admin/users/{bj}", json={"password_hash": "x"}), 422, "bad_field")
    _error(admin.patch(f"/api/v1/admin/users/{bj}", json={"is_active": "no"}), 422)
    _error(admin.patch(f"/api/v1/admin/users/{bj}", json={"branch_id": "ZZ"}), 422)


def test_roles(app, client_as):
    admin = client_as("admin")
    roles = admin.get("/api/v1/admin/roles").get_json()["items"]
    assert {"admin", "security_admin", "auditor", "analyst"} <= {r["code"] for r in roles}
    bj = _uid(app, "bj_cm")
    changed = admin.put(f"/api/v1/admin/users/{bj}/roles", json={"roles": ["analyst"]})
    assert changed.status_code == 200 and changed.get_json()["roles"] == ["analyst"]
    _error(
        admin.put(f"/api/v1/admin/users/{bj}/roles", json={"roles": ["admin", "security_admin"]}),
        422,
        "separation_of_duties",
    )
    _error(admin.put(f"/api/v1/admin/users/{bj}/roles", json={"roles": "analyst"}), 422)
    _error(admin.put("/api/v1/admin/users/99999/roles", json={"roles": []}), 404)
    _error(
        admin.put(f"/api/v1/admin/users/{_uid(app, 'admin')}/roles", json={"roles": []}),
        403,
        "self_roles",
    )
    with app.app_context(), get_db().session() as s:
        assert {r.code for r in s.get(User, bj).roles} == {"analyst"}


def test_group_administration(app, client_as):
    admin = client_as("admin")
    listed = admin.get("/api/v1/admin/groups").get_json()
    assert "营销团队" in [g["name"] for g in listed["items"]]
    created = admin.post(
        "/api/v1/admin/groups",
        json={
            "name": "风险管理组",
            "owner_id": _uid(app, "leader"),
            "member_ids": [_uid(app, "analyst")],
        },
    )
    assert created.status_code == 201
    group = created.get_json()
    assert group["owner_id"] == _uid(app, "leader")
    assert {m["username"] for m in group["members"]} == {"leader", "analyst"}
    gid = group["id"]
    _error(admin.post("/api/v1/admin/groups", json={"name": "风险管理组"}), 422, "duplicate")
    _error(admin.post("/api/v1/admin/groups", json={"name": ""}), 422)

    patched = admin.patch(
        f"/api/v1/admin/groups/{gid}",
        json={"name": "风控组", "member_ids": [_uid(app, "ops")]},
    )
    assert patched.get_json()["name"] == "风控组"
    assert [m["username"] for m in patched.get_json()["members"]] == ["ops"]
    _error(admin.patch(f"/api/v1/admin/groups/{gid}", json={"colour": "red"}), 422, "bad_field")
    _error(admin.patch("/api/v1/admin/groups/99999", json={"name": "x"}), 404)

    # Deleting a group removes the grants naming it.
    with app.app_context(), get_db().session() as s, s.begin():
        resource = s.scalar(select(Resource).where(Resource.type == "dataset"))
        s.add(
            Grant(subject_type="group", subject_id=gid, resource_id=resource.id, permission="view")
        )
    assert admin.delete(f"/api/v1/admin/groups/{gid}").status_code == 204
    with app.app_context(), get_db().session() as s:
        assert s.get(Group, gid) is None
        assert (
            s.scalar(select(Grant.id).where(Grant.subject_type == "group", Grant.subject_id == gid))
            is None
        )
    _error(admin.delete(f"/api/v1/admin/groups/{gid}"), 404, "group_not_found")


def test_the_system_administrator_cannot_grant(app, client_as):
    """三权分立: admin manages accounts, not grants (sharing needs ownership or manage)."""
    with app.app_context(), get_db().session() as s:
        dataset = s.scalar(select(Resource.id).where(Resource.type == "dataset"))
    response = client_as("admin").post(
        "/api/v1/shares", json={"resource_id": dataset, "user_ids": [_uid(app, "bj_cm")]}
    )
    _error(response, 403, "cannot_share")
