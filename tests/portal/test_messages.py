"""The message center service: notify, preferences, unread counts, paging, mark read."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from portal.errors import Invalid
from portal.models import Message, User
from portal.services.messages import (
    get_preferences,
    list_messages,
    mark_read,
    message_dict,
    notify,
    set_preferences,
    unread_by_kind,
    unread_count,
)


@pytest.fixture(autouse=True)
def no_demo_messages(db):
    """Start from an empty message center (the demo seed sends some messages)."""
    with db.session() as s, s.begin():
        s.execute(delete(Message))


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def test_notify_stores_both_titles_and_counts_as_unread(db):
    with db.session() as s, s.begin():
        bj, analyst = _user(s, "bj_cm"), _user(s, "analyst")
        message = notify(
            s,
            bj.id,
            "share",
            "分享给你",
            "Shared with you",
            body="看看",
            link="/x",
            actor_id=analyst.id,
        )
        assert message is not None and message.id
    with db.session() as s:
        bj = _user(s, "bj_cm")
        assert unread_count(s, bj) == 1
        page = list_messages(s, bj)
        assert page["total"] == 1 and page["page"] == 1 and page["per_page"] == 20
        data = message_dict(page["items"][0], "en")
        assert data["title"] == "Shared with you" and data["read"] is False
        assert message_dict(page["items"][0], "zh_CN")["title"] == "分享给你"
        assert unread_by_kind(s, bj) == {"share": 1}


def test_the_actor_is_never_notified_and_links_must_be_local(db):
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        assert notify(s, bj.id, "comment", "评论", "Comment", actor_id=bj.id) is None
        message = notify(s, bj.id, "comment", "评论", "Comment", link="https://evil.example/")
        assert message.link is None
        with pytest.raises(ValueError):
            notify(s, bj.id, "spam", "x", "x")
        assert notify(s, 999_999, "share", "x", "x") is None


def test_a_muted_kind_is_not_delivered(db):
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        prefs = set_preferences(s, bj, {"alert": False})
        assert prefs["alert"] is False and prefs["share"] is True
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        assert get_preferences(s, bj)["alert"] is False
        assert notify(s, bj.id, "alert", "提醒", "Alert") is None
        assert notify(s, bj.id, "share", "分享", "Share") is not None
    with db.session() as s:
        assert unread_count(s, _user(s, "bj_cm")) == 1


@pytest.mark.parametrize("bad", [{"spam": True}, {"alert": "no"}, [], {}])
def test_bad_preferences_are_refused_and_nothing_changes(db, bad):
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        with pytest.raises(Invalid):
            set_preferences(s, bj, bad)
        assert all(get_preferences(s, bj).values())


def test_paging_filters_and_mark_read(db):
    with db.session() as s, s.begin():
        bj, sh = _user(s, "bj_cm"), _user(s, "sh_cm")
        ids = [notify(s, bj.id, "share", f"消息{i}", f"Message {i}").id for i in range(5)]
        notify(s, bj.id, "alert", "提醒", "Alert")
        other = notify(s, sh.id, "share", "别人的", "Someone else's").id
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        page = list_messages(s, bj, page=2, per_page=2)
        assert page["total"] == 6 and len(page["items"]) == 2
        assert list_messages(s, bj, kind="alert")["total"] == 1
        # Other users' ids are ignored.
        assert mark_read(s, bj, [ids[0], ids[1], other]) == 2
        assert unread_count(s, bj) == 4
        assert list_messages(s, bj, unread_only=True)["total"] == 4
        assert mark_read(s, bj, "all") == 4
        assert unread_count(s, bj) == 0
        assert mark_read(s, bj, []) == 0
    with db.session() as s:
        assert s.get(Message, other).read_at is None


@pytest.mark.parametrize(
    "kwargs", [{"page": 0}, {"per_page": 0}, {"per_page": 101}, {"page": "x"}, {"kind": "bad"}]
)
def test_bad_paging_is_refused(db, kwargs):
    with db.session() as s, pytest.raises(Invalid):
        list_messages(s, _user(s, "bj_cm"), **kwargs)


@pytest.mark.parametrize("ids", ["some", [1, "2"], 5, [True]])
def test_bad_ids_are_refused(db, ids):
    with db.session() as s, pytest.raises(Invalid):
        mark_read(s, _user(s, "bj_cm"), ids)
