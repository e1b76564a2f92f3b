"""Sharing, groups, the feed, access requests and the social demo seed (services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Grant, Group, Message, Resource, Role, User, utcnow
from portal.models.social import AccessRequest, Post, Share
from portal.services import access_requests as access
from portal.services import groups as group_service
from portal.services import sharing
from portal.services.grants import has_permission
from portal.services.social_demo import seed_social_demo


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


@pytest.fixture(autouse=True)
def no_demo_social(db):
    """Start from no messages, posts, shares or requests (the demo seed adds some)."""
    with db.session() as s, s.begin():
        for model in (Message, Post, Share, AccessRequest):
            s.execute(delete(model))


@pytest.fixture
def report(db):
    """A report owned by the analyst."""
    with db.session() as s, s.begin():
        resource = Resource(
            type="report",
            title_zh="营销报表",
            title_en="Marketing",
            owner_id=_user(s, "analyst").id,
        )
        s.add(resource)
        s.flush()
        return resource.id


def _grant(s, subject_type, subject_id, resource_id, permission, expires_at=None):
    s.add(
        Grant(
            subject_type=subject_type,
            subject_id=subject_id,
            resource_id=resource_id,
            permission=permission,
            expires_at=expires_at,
        )
    )
    s.flush()


# -- who may share ------------------------------------------------------------------------------
def test_the_owner_may_share_and_recipients_get_view_and_a_message(db, report):
    with db.session() as s, s.begin():
        shares = sharing.share_resource(
            s, _user(s, "analyst"), report, user_ids=[_user(s, "bj_cm").id], message="看看"
        )
        assert len(shares) == 1
    with db.session() as s:
        bj = _user(s, "bj_cm")
        assert has_permission(s, bj, report, "view") and not has_permission(s, bj, report, "edit")
        message = s.scalar(select(Message).where(Message.user_id == bj.id))
        assert message.kind == "share" and message.body == "看看" and "营销报表" in message.title_zh
        event = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "grant_change")).all()
        assert event[-1].details["action"] == "share"


def test_a_manage_grant_allows_sharing_even_through_a_group(db, report):
    with db.session() as s, s.begin():
        group = s.scalar(select(Group).where(Group.name == "营销团队"))
        _grant(s, "group", group.id, report, "manage")
    with db.session() as s, s.begin():
        sh = _user(s, "sh_cm")
        assert sharing.can_share(s, sh, s.get(Resource, report))
        sharing.share_resource(s, sh, report, user_ids=[_user(s, "ops").id])
    with db.session() as s:
        assert has_permission(s, _user(s, "ops"), report, "view")


def test_a_role_manage_grant_allows_sharing_but_an_expired_one_does_not(db, report):
    with db.session() as s, s.begin():
        role = s.scalar(select(Role).where(Role.code == "leader"))
        _grant(s, "role", role.id, report, "manage", expires_at=utcnow() - timedelta(days=1))
    with db.session() as s:
        assert not sharing.can_share(s, _user(s, "leader"), s.get(Resource, report))
    with db.session() as s, s.begin():
        s.scalar(select(Grant).where(Grant.permission == "manage")).expires_at = None
    with db.session() as s:
        assert sharing.can_share(s, _user(s, "leader"), s.get(Resource, report))


@pytest.mark.parametrize("permission", [None, "view", "edit", "export", "unmask"])
def test_view_or_edit_holders_and_strangers_may_not_share(db, report, permission):
    with db.session() as s, s.begin():
        if permission:
            _grant(s, "user", _user(s, "bj_cm").id, report, permission)
    with db.session() as s, s.begin(), pytest.raises(Forbidden):
        sharing.share_resource(s, _user(s, "bj_cm"), report, user_ids=[_user(s, "sh_cm").id])
    with db.session() as s:
        assert not has_permission(s, _user(s, "sh_cm"), report, "view")
        assert s.scalar(select(func.count(Share.id))) == 0


def test_separation_of_duties_security_may_share_the_system_admin_may_not(db, report):
    with db.session() as s, s.begin(), pytest.raises(Forbidden):
        sharing.share_resource(s, _user(s, "admin"), report, user_ids=[_user(s, "ops").id])
    with db.session() as s, s.begin():
        sharing.share_resource(s, _user(s, "security"), report, user_ids=[_user(s, "ops").id])
    with db.session() as s:
        assert has_permission(s, _user(s, "ops"), report, "view")


def test_sharing_with_a_group_notifies_its_members_but_not_the_sharer(db, report):
    with db.session() as s, s.begin():
        group = s.scalar(select(Group).where(Group.name == "营销团队"))
        if _user(s, "analyst") not in group.members:
            group.members.append(_user(s, "analyst"))
        sharing.share_resource(s, _user(s, "analyst"), report, group_ids=[group.id])
    with db.session() as s:
        notified = set(s.scalars(select(User.username).join(Message, Message.user_id == User.id)))
        assert notified == {"bj_cm", "sh_cm"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, Invalid),
        ({"user_ids": "1"}, Invalid),
        ({"user_ids": [999999]}, NotFound),
        ({"group_ids": [999999]}, NotFound),
        ({"user_ids": [1], "message": "x" * 1001}, Invalid),
    ],
)
def test_bad_shares_change_nothing(db, report, kwargs, error):
    with db.session() as s:
        grants = s.scalar(select(func.count(Grant.id)))
    with db.session() as s, s.begin(), pytest.raises(error):
        sharing.share_resource(s, _user(s, "analyst"), report, **kwargs)
    with db.session() as s:
        assert s.scalar(select(func.count(Grant.id))) == grants
        assert s.scalar(select(func.count(Message.id))) == 0


# -- groups and the feed ------------------------------------------------------------------------
def test_groups_and_group_posts_stay_inside_the_group(db):
    with db.session() as s, s.begin():
        analyst = _user(s, "analyst")
        group = group_service.create_group(s, analyst, "  风险   小组 ", "desc")
        assert group.name == "风险 小组" and group.owner_id == analyst.id
        with pytest.raises(Invalid):
            group_service.create_group(s, _user(s, "ops"), "风险 小组")
        with pytest.raises(Forbidden):
            group_service.add_members(s, _user(s, "ops"), group.id, [_user(s, "ops").id])
        group_service.add_members(s, _user(s, "admin"), group.id, [_user(s, "leader").id])
        post = sharing.create_post(s, analyst, "<b>内部</b>", group_id=group.id)
        public = sharing.create_post(s, _user(s, "ops"), "公开动态")
        gid, pid, public_id = group.id, post.id, public.id
    with db.session() as s, s.begin():
        leader, ops = _user(s, "leader"), _user(s, "ops")
        assert {p["id"] for p in sharing.feed(s, leader)["items"]} == {pid, public_id}
        assert [p["id"] for p in sharing.feed(s, ops)["items"]] == [public_id]
        assert sharing.feed(s, leader)["items"][-1]["text"] in ("<b>内部</b>", "公开动态")
        with pytest.raises(NotFound):
            sharing.add_comment(s, ops, pid, "x")
        with pytest.raises(Forbidden):
            sharing.create_post(s, ops, "x", group_id=gid)
        assert sharing.toggle_like(s, leader, pid)["likes"] == 1
        assert sharing.toggle_like(s, leader, pid, like=True)["likes"] == 1
        assert sharing.toggle_like(s, leader, pid)["likes"] == 0


def test_a_post_may_link_only_a_resource_the_author_sees(db, report):
    with db.session() as s, s.begin():
        with pytest.raises(NotFound):
            sharing.create_post(s, _user(s, "bj_cm"), "看这个", resource_id=report)
        post = sharing.create_post(s, _user(s, "analyst"), "看这个", resource_id=report)
        data = sharing.posts_data(s, _user(s, "bj_cm"), [post], "en")[0]
        assert data["resource"]["title"] == "Marketing"


# -- access requests ----------------------------------------------------------------------------
def test_owner_decides_view_requests_security_decides_the_rest(db, report):
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        view = access.request_access(s, bj, report, "view", "需要")
        again = access.request_access(s, bj, report, "view", "again")
        assert again.id == view.id
        export = access.request_access(s, bj, report, "export", "")
        view_id, export_id = view.id, export.id
    with db.session() as s, s.begin():
        analyst = _user(s, "analyst")
        with pytest.raises(Forbidden):
            access.decide(s, analyst, export_id, True)
        with pytest.raises(Forbidden):
            access.decide(s, _user(s, "sh_cm"), view_id, True)
        access.decide(s, analyst, view_id, True, "好")
        access.decide(s, _user(s, "security"), export_id, True)
    with db.session() as s:
        bj = _user(s, "bj_cm")
        assert has_permission(s, bj, report, "view") and has_permission(s, bj, report, "export")
        kinds = s.scalars(select(Message.kind).where(Message.user_id == bj.id)).all()
        assert kinds == ["access", "access"]
    with db.session() as s, s.begin(), pytest.raises(Invalid):
        access.decide(s, _user(s, "security"), view_id, False)


def test_a_manage_holder_decides_and_sees_the_request(db, report):
    with db.session() as s, s.begin():
        _grant(s, "user", _user(s, "leader").id, report, "manage")
        request_id = access.request_access(s, _user(s, "bj_cm"), report).id
    with db.session() as s, s.begin():
        leader = _user(s, "leader")
        listed = access.list_requests(s, leader, "to_decide", "pending")
        assert [r["id"] for r in listed["items"]] == [request_id]
        assert access.list_requests(s, _user(s, "ops"), "to_decide")["total"] == 0
        assert access.list_requests(s, _user(s, "security"), "to_decide")["total"] == 1
        assert access.decide(s, leader, request_id, False, "no").status == "rejected"
    with db.session() as s:
        assert not has_permission(s, _user(s, "bj_cm"), report, "view")


# -- demo seed ----------------------------------------------------------------------------------
def test_the_social_demo_seed_is_idempotent(db):
    with db.session() as s, s.begin():
        first = seed_social_demo(s)
    with db.session() as s, s.begin():
        second = seed_social_demo(s)
        group = s.scalar(select(Group).where(Group.name == "营销团队"))
        assert {m.username for m in group.members} >= {"bj_cm", "sh_cm", "analyst"}
        assert s.scalar(select(func.count(Post.id))) == 2
    assert first["posts"] == 2 and second == {"members": 0, "posts": 0}
