"""The social API: groups, shares, the feed, messages, access requests and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.db import get_db
from portal.models import (
    AccessRequest,
    ApiToken,
    Grant,
    Group,
    Message,
    Post,
    Resource,
    Share,
    User,
    utcnow,
)
from portal.services.grants import has_permission
from tests.component_tree import find_by_class, find_by_id, texts_in
from tests.conftest import DEMO_PASSWORD

ROUTES = [
    ("GET", "/api/v1/groups"),
    ("POST", "/api/v1/groups"),
    ("GET", "/api/v1/groups/1"),
    ("POST", "/api/v1/groups/1/members"),
    ("DELETE", "/api/v1/groups/1/members"),
    ("POST", "/api/v1/shares"),
    ("GET", "/api/v1/feed"),
    ("POST", "/api/v1/feed"),
    ("POST", "/api/v1/feed/1/like"),
    ("POST", "/api/v1/feed/1/comments"),
    ("GET", "/api/v1/messages"),
    ("POST", "/api/v1/messages/read"),
    ("GET", "/api/v1/messages/preferences"),
    ("PUT", "/api/v1/messages/preferences"),
    ("GET", "/api/v1/messages/unread-count"),
    ("POST", "/api/v1/access-requests"),
    ("GET", "/api/v1/access-requests"),
    ("POST", "/api/v1/access-requests/1/decision"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/1"),
]


@pytest.fixture(autouse=True)
def no_demo_social(app):
    """Start from no messages, posts, shares or requests (the demo seed adds some)."""
    with app.app_context(), get_db().session() as s, s.begin():
        for model in (Message, Post, Share, AccessRequest):
            s.execute(delete(model))


def _uid(app, username: str) -> int:
    with app.app_context(), get_db().session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def _resource(app, owner: str, title: str = "营销分析报表") -> int:
    with app.app_context(), get_db().session() as s, s.begin():
        resource = Resource(
            type="report",
            title_zh=title,
            title_en="Marketing report",
            owner_id=s.scalar(select(User.id).where(User.username == owner)),
        )
        s.add(resource)
        s.flush()
        return resource.id


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_anonymous_callers_get_401(anonymous, method, url):
    response = anonymous.open(url, method=method, json={})
    _error(response, 401, "unauthorized")


# -- groups -------------------------------------------------------------------------------------
def test_create_show_and_change_a_group(app, client_as):
    analyst, bj, sh = client_as("analyst"), client_as("bj_cm"), client_as("sh_cm")
    created = analyst.post("/api/v1/groups", json={"name": "数据分析小组", "description": "x"})
    assert created.status_code == 201
    group = created.get_json()
    assert group["owner_id"] == _uid(app, "analyst")
    assert [m["username"] for m in group["members"]] == ["analyst"]
    gid = group["id"]

    _error(analyst.post("/api/v1/groups", json={"name": "数据分析小组"}), 422, "duplicate")
    _error(analyst.post("/api/v1/groups", json={"name": "  "}), 422, "bad_group_name")
    _error(analyst.post("/api/v1/groups", data="nope"), 422, "invalid_json")

    # Non-members may not see the members; unknown groups are 404.
    _error(bj.get(f"/api/v1/groups/{gid}"), 403, "not_group_member")
    _error(bj.get("/api/v1/groups/99999"), 404, "group_not_found")

    added = analyst.post(f"/api/v1/groups/{gid}/members", json={"user_ids": [_uid(app, "bj_cm")]})
    assert added.status_code == 200
    assert {m["username"] for m in added.get_json()["members"]} == {"analyst", "bj_cm"}
    assert bj.get(f"/api/v1/groups/{gid}").status_code == 200
    # Only the owner (or an administrator) adds members.
    _error(
        bj.post(f"/api/v1/groups/{gid}/members", json={"user_ids": [_uid(app, "sh_cm")]}),
        403,
        "not_group_owner",
    )
    _error(analyst.post(f"/api/v1/groups/{gid}/members", json={"user_ids": ["x"]}), 422)
    _error(analyst.post(f"/api/v1/groups/{gid}/members", json={"user_ids": [99999]}), 404)
    _error(analyst.post("/api/v1/groups/99999/members", json={"user_ids": [1]}), 404)

    mine = bj.get("/api/v1/groups").get_json()
    assert gid in [g["id"] for g in mine["items"]] and mine["page"] == 1
    everyone = sh.get("/api/v1/groups?all=1&per_page=50").get_json()
    assert gid in [g["id"] for g in everyone["items"]] and "members" not in everyone["items"][0]
    _error(sh.get("/api/v1/groups?page=0"), 422, "bad_page")

    # A member leaves; the owner removes; others may not remove.
    _error(
        sh.delete(f"/api/v1/groups/{gid}/members", json={"user_ids": [_uid(app, "bj_cm")]}),
        403,
    )
    left = bj.delete(f"/api/v1/groups/{gid}/members?user_id={_uid(app, 'bj_cm')}")
    assert left.status_code == 200 and left.get_json()["is_member"] is False
    with app.app_context(), get_db().session() as s:
        assert [m.username for m in s.get(Group, gid).members] == ["analyst"]
    _error(analyst.delete(f"/api/v1/groups/{gid}/members", json={}), 422, "bad_user_ids")


# -- sharing ------------------------------------------------------------------------------------
def test_the_owner_shares_with_a_user_and_a_group(app, client_as):
    rid = _resource(app, "analyst")
    analyst, bj, sh = client_as("analyst"), client_as("bj_cm"), client_as("sh_cm")
    with app.app_context(), get_db().session() as s:
        marketing = s.scalar(select(Group.id).where(Group.name == "营销团队"))
    response = analyst.post(
        "/api/v1/shares",
        json={
            "resource_id": rid,
            "user_ids": [_uid(app, "leader")],
            "group_ids": [marketing],
            "message": "请看本月营销数据",
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert {(x["subject_type"], x["message"]) for x in response.get_json()["items"]} == {
        ("user", "请看本月营销数据"),
        ("group", "请看本月营销数据"),
    }
    for client in (bj, sh, client_as("leader")):
        messages = client.get("/api/v1/messages?kind=share").get_json()
        assert messages["total"] == 1 and messages["items"][0]["body"] == "请看本月营销数据"
    with app.app_context(), get_db().session() as s:
        bj_user = s.get(User, _uid(app, "bj_cm"))
        assert has_permission(s, bj_user, rid, "view")
        assert not has_permission(s, bj_user, rid, "edit")

    # A recipient may not re-share (view is not manage); bad requests are refused.
    _error(bj.post("/api/v1/shares", json={"resource_id": rid, "user_ids": [1]}), 403)
    _error(analyst.post("/api/v1/shares", json={"resource_id": 99999, "user_ids": [1]}), 404)
    _error(analyst.post("/api/v1/shares", json={"resource_id": rid}), 422, "no_recipients")
    _error(
        analyst.post("/api/v1/shares", json={"resource_id": rid, "user_ids": [99999]}),
        404,
        "user_not_found",
    )
    _error(
        analyst.post("/api/v1/shares", json={"resource_id": rid, "user_ids": [1], "message": 5}),
        422,
        "bad_message",
    )


# -- the feed -----------------------------------------------------------------------------------
def test_feed_posts_likes_and_comments_as_text(app, client_as):
    bj, sh, ops = client_as("bj_cm"), client_as("sh_cm"), client_as("ops")
    with app.app_context(), get_db().session() as s:
        marketing = s.scalar(select(Group.id).where(Group.name == "营销团队"))
    public = bj.post("/api/v1/feed", json={"text": "本周存款增长 5%"})
    assert public.status_code == 201
    group_post = bj.post("/api/v1/feed", json={"text": "团队内部", "group_id": marketing})
    assert group_post.status_code == 201
    pid, gpid = public.get_json()["id"], group_post.get_json()["id"]

    # ops is not in the marketing group: sees the public post only.
    assert [p["id"] for p in ops.get("/api/v1/feed").get_json()["items"]] == [pid]
    assert {p["id"] for p in sh.get("/api/v1/feed").get_json()["items"]} == {pid, gpid}
    _error(ops.get(f"/api/v1/feed?group_id={marketing}"), 403, "not_group_member")
    _error(ops.post("/api/v1/feed", json={"text": "x", "group_id": marketing}), 403)
    _error(ops.post("/api/v1/feed", json={"text": "   "}), 422, "bad_text")
    _error(ops.post("/api/v1/feed", json={"text": "x" * 2001}), 422, "bad_text")
    _error(ops.post("/api/v1/feed", json={"text": "x", "resource_id": 99999}), 404)

    liked = ops.post(f"/api/v1/feed/{pid}/like", json={"liked": True})
    assert liked.get_json() == {"post_id": pid, "liked": True, "likes": 1}
    assert ops.post(f"/api/v1/feed/{pid}/like").get_json()["likes"] == 0  # toggles
    _error(ops.post(f"/api/v1/feed/{gpid}/like"), 404, "post_not_found")  # hidden post
    _error(ops.post(f"/api/v1/feed/{pid}/like", json={"liked": "yes"}), 422)

    script = "<script>alert(1)</script> 好"
    comment = ops.post(f"/api/v1/feed/{pid}/comments", json={"text": script})
    assert comment.status_code == 201 and comment.get_json()["text"] == script
    feed = bj.get("/api/v1/feed").get_json()
    post = next(p for p in feed["items"] if p["id"] == pid)
    assert post["comments"][0]["text"] == script
    assert post["comments"][0]["author"]["username"] == "ops"
    _error(ops.post(f"/api/v1/feed/{pid}/comments", json={"text": ""}), 422)
    _error(ops.post(f"/api/v1/feed/{gpid}/comments", json={"text": "x"}), 404)
    _error(ops.post("/api/v1/feed/99999/comments", json={"text": "x"}), 404)
    # The author hears about the comment.
    assert bj.get("/api/v1/messages?kind=comment").get_json()["total"] == 1


# -- messages -----------------------------------------------------------------------------------
def test_messages_read_unread_and_preferences(app, client_as):
    rid = _resource(app, "analyst")
    analyst, bj = client_as("analyst"), client_as("bj_cm")
    for _ in range(3):
        analyst.post("/api/v1/shares", json={"resource_id": rid, "user_ids": [_uid(app, "bj_cm")]})
    counts = bj.get("/api/v1/messages/unread-count").get_json()
    assert counts == {"unread": 3, "by_kind": {"share": 3}}
    page = bj.get("/api/v1/messages?per_page=2&page=1").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["per_page"] == 2
    first = page["items"][0]["id"]
    read = bj.post("/api/v1/messages/read", json={"ids": [first]})
    assert read.get_json() == {"updated": 1, "unread": 2}
    assert bj.get("/api/v1/messages?unread=1").get_json()["total"] == 2
    assert bj.post("/api/v1/messages/read", json={"ids": "all"}).get_json()["unread"] == 0
    _error(bj.post("/api/v1/messages/read", json={"ids": "some"}), 422, "bad_ids")
    _error(bj.post("/api/v1/messages/read", json={}), 422, "bad_ids")
    _error(bj.get("/api/v1/messages?kind=spam"), 422, "bad_kind")
    _error(bj.get("/api/v1/messages?per_page=x"), 422)

    prefs = bj.get("/api/v1/messages/preferences").get_json()["preferences"]
    assert prefs["share"] is True
    muted = bj.put("/api/v1/messages/preferences", json={"share": False})
    assert muted.get_json()["preferences"]["share"] is False
    analyst.post("/api/v1/shares", json={"resource_id": rid, "user_ids": [_uid(app, "bj_cm")]})
    assert bj.get("/api/v1/messages/unread-count").get_json()["unread"] == 0
    _error(bj.put("/api/v1/messages/preferences", json={"spam": True}), 422, "bad_kind")
    _error(bj.put("/api/v1/messages/preferences", json={"share": 1}), 422)
    assert bj.get("/api/v1/messages/preferences").get_json()["preferences"]["share"] is False


# -- access requests ----------------------------------------------------------------------------
def test_request_access_and_the_owner_approves(app, client_as):
    rid = _resource(app, "analyst")
    analyst, bj, sh, security = (
        client_as("analyst"),
        client_as("bj_cm"),
        client_as("sh_cm"),
        client_as("security"),
    )
    made = bj.post("/api/v1/access-requests", json={"resource_id": rid, "reason": "营销分析"})
    assert made.status_code == 201
    request_id = made.get_json()["id"]
    assert made.get_json()["status"] == "pending"
    # A second request is the same one.
    again = bj.post("/api/v1/access-requests", json={"resource_id": rid})
    assert again.get_json()["id"] == request_id
    # The owner and the security administrator are told.
    assert analyst.get("/api/v1/messages?kind=access").get_json()["total"] == 1
    assert security.get("/api/v1/messages?kind=access").get_json()["total"] == 1
    _error(bj.post("/api/v1/access-requests", json={"resource_id": 99999}), 404)
    _error(
        bj.post("/api/v1/access-requests", json={"resource_id": rid, "permission": "own"}),
        422,
        "bad_permission",
    )
    _error(analyst.post("/api/v1/access-requests", json={"resource_id": rid}), 422)

    mine = bj.get("/api/v1/access-requests").get_json()
    assert [r["id"] for r in mine["items"]] == [request_id]
    to_decide = analyst.get("/api/v1/access-requests?scope=to_decide&status=pending").get_json()
    assert [r["id"] for r in to_decide["items"]] == [request_id]
    assert sh.get("/api/v1/access-requests?scope=to_decide").get_json()["total"] == 0
    _error(bj.get("/api/v1/access-requests?scope=everything"), 422, "bad_scope")

    _error(
        bj.post(f"/api/v1/access-requests/{request_id}/decision", json={"approve": True}),
        403,
        "cannot_decide",
    )
    _error(sh.post(f"/api/v1/access-requests/{request_id}/decision", json={"approve": True}), 403)
    _error(analyst.post("/api/v1/access-requests/99999/decision", json={"approve": True}), 404)
    _error(
        analyst.post(f"/api/v1/access-requests/{request_id}/decision", json={"approve": "y"}),
        422,
        "bad_decision",
    )
    decided = analyst.post(
        f"/api/v1/access-requests/{request_id}/decision", json={"approve": True, "note": "ok"}
    )
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    with app.app_context(), get_db().session() as s:
        assert has_permission(s, s.get(User, _uid(app, "bj_cm")), rid, "view")
    assert bj.get("/api/v1/messages?kind=access").get_json()["items"][0]["body"] == "ok"
    _error(
        analyst.post(f"/api/v1/access-requests/{request_id}/decision", json={"approve": False}),
        422,
        "already_decided",
    )


def test_only_security_decides_unmask_requests(app, client_as):
    with app.app_context(), get_db().session() as s, s.begin():
        dataset = s.scalar(
            select(Resource).where(Resource.type == "dataset", Resource.key == "dim_customer")
        )
        dataset.owner_id = s.scalar(select(User.id).where(User.username == "owner"))
        rid = dataset.id
    bj = client_as("bj_cm")
    made = bj.post("/api/v1/access-requests", json={"resource_id": rid, "permission": "unmask"})
    request_id = made.get_json()["id"]
    _error(
        client_as("owner").post(
            f"/api/v1/access-requests/{request_id}/decision", json={"approve": True}
        ),
        403,
    )
    decided = client_as("security").post(
        f"/api/v1/access-requests/{request_id}/decision", json={"approve": False, "note": "no"}
    )
    assert decided.get_json()["status"] == "rejected"
    with app.app_context(), get_db().session() as s:
        assert not has_permission(s, s.get(User, _uid(app, "bj_cm")), rid, "unmask")
        assert (
            s.scalar(
                select(Grant.id).where(
                    Grant.permission == "unmask",
                    Grant.subject_type == "user",
                    Grant.subject_id == _uid(app, "bj_cm"),
                )
            )
            is None
        )


# -- personal API tokens ------------------------------------------------------------------------
def test_tokens_authenticate_the_api_only(app, client_as, anonymous):
    bj = client_as("bj_cm")
    created = bj.post("/api/v1/tokens", json={"name": "报表脚本", "expires_in_days": 30})
    assert created.status_code == 201
    data = created.get_json()
    secret, token_id = data["token"], data["id"]
    assert secret.startswith("bdp_") and data["prefix"] == secret[:10]
    with app.app_context(), get_db().session() as s:
        stored = s.get(ApiToken, token_id)
        assert secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    listed = bj.get("/api/v1/tokens").get_json()["items"]
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]

    headers = {"Authorization": f"Bearer {secret}"}
    me = anonymous.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["user"]["username"] == "bj_cm"
    assert "Set-Cookie" not in me.headers
    assert anonymous.get("/api/v1/messages/unread-count", headers=headers).status_code == 200
    # Pages and Dash callbacks ignore tokens.
    page = anonymous.get("/", headers=headers)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert anonymous.post("/_dash-update-component", json={}, headers=headers).status_code == 401
    # A token cannot mint tokens.
    _error(anonymous.post("/api/v1/tokens", json={"name": "x"}, headers=headers), 403)
    with app.app_context(), get_db().session() as s:
        assert s.get(ApiToken, token_id).last_used_at is not None

    _error(anonymous.get("/api/v1/me", headers={"Authorization": "Bearer bdp_nope"}), 401)
    _error(bj.post("/api/v1/tokens", json={"name": ""}), 422, "bad_token_name")
    _error(bj.post("/api/v1/tokens", json={"name": "x", "expires_in_days": 400}), 422)
    _error(client_as("sh_cm").delete(f"/api/v1/tokens/{token_id}"), 404, "token_not_found")

    revoked = bj.delete(f"/api/v1/tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    _error(anonymous.get("/api/v1/me", headers=headers), 401, "invalid_token")


def test_expired_tokens_and_disabled_users_are_refused(app, client_as, anonymous):
    bj = client_as("bj_cm")
    first = bj.post("/api/v1/tokens", json={"name": "a"}).get_json()
    second = bj.post("/api/v1/tokens", json={"name": "b"}).get_json()
    with app.app_context(), get_db().session() as s, s.begin():
        s.get(ApiToken, first["id"]).expires_at = utcnow() - timedelta(seconds=1)
    _error(
        anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {first['token']}"}),
        401,
        "invalid_token",
    )
    headers = {"Authorization": f"Bearer {second['token']}"}
    assert anonymous.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context(), get_db().session() as s, s.begin():
        s.get(User, _uid(app, "bj_cm")).is_active = False
    _error(anonymous.get("/api/v1/me", headers=headers), 401, "invalid_token")


def test_logging_in_still_works_with_the_demo_password(anonymous):
    response = anonymous.post(
        "/api/v1/auth/login", json={"username": "bj_cm", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200


# -- pages and callbacks ------------------------------------------------------------------------
class _Ctx:
    """Stands in for dash.ctx outside a real callback request."""

    def __init__(self, triggered_id=None, value=None):
        self.triggered_id = triggered_id
        self.triggered = [{"value": value}] if triggered_id else []


def test_pages_render_and_callbacks_work_for_a_user(app, client_as, monkeypatch):
    import dash

    from callbacks import social as cb
    from tests.conftest import request_as

    bj = client_as("bj_cm")
    pid = bj.post("/api/v1/feed", json={"text": "<b>hi</b>"}).get_json()["id"]
    bj.post(f"/api/v1/feed/{pid}/comments", json={"text": "<script>x</script>"})
    rid = _resource(app, "analyst")
    client_as("analyst").post(
        "/api/v1/shares", json={"resource_id": rid, "user_ids": [_uid(app, "bj_cm")]}
    )
    with request_as(app, "bj_cm"):
        for path in ("/messages", "/groups", "/account"):
            page = next(p for p in dash.page_registry.values() if p["path"] == path)
            assert page["layout"]() is not None
        monkeypatch.setattr(dash, "ctx", _Ctx())
        body, pages, page, summary = cb.render_messages("all", False, 1, 0)
        assert pages == 1 and page == 1 and "1" in summary
        assert any("Marketing report" in t or "营销分析报表" in t for t in texts_in(body))
        feed, _pages, _page = cb.render_feed(0, None, 1)
        texts = texts_in(feed)
        assert "<b>hi</b>" in texts and "<script>x</script>" in texts  # as text, not markup
        text, class_name = cb.refresh_badge(1)
        assert text == "1" and "d-none" not in class_name
        assert find_by_id(cb.message_bell(), cb.BADGE).children == "1"
        monkeypatch.setattr(dash, "ctx", _Ctx("msg-read-all", 1))
        _stamp, text, class_name = cb.mark_messages_read([], 1)
        assert text == "0" and "d-none" in class_name
        monkeypatch.setattr(dash, "ctx", _Ctx({"type": cb.FEED["like"], "id": pid}, 1))
        cb.like_post([1])
        monkeypatch.setattr(dash, "ctx", _Ctx())
        feed, _pages, _page = cb.render_feed(1, None, 1)
        like = find_by_class(feed, "post-like")
        assert "liked" in like.className.split() and " 1" in texts_in(like)
        alert, table, name = cb.create_token(1, "script", "30")
        assert "bdp_" in str(alert) and name == ""
