"""Announcements: published by administrators, shown to their audience within their period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Forbidden, Invalid
from portal.models import Announcement, User, utcnow
from portal.services.announcements import current_for, publish, withdraw


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _titles(db, username, locale="zh_CN"):
    with db.session() as s:
        return [a["title"] for a in current_for(s, _user(s, username), locale)]


def test_announcements_reach_their_audience_within_their_period(db):
    now = utcnow()
    with db.session() as s, s.begin():
        admin = _user(s, "admin")
        publish(s, admin, {"title_zh": "系统升级", "title_en": "Upgrade", "level": "important"})
        publish(s, admin, {"title_zh": "北京分行通知", "audience": {"branches": ["BJ"]}})
        publish(
            s, admin, {"title_zh": "领导专阅", "audience": {"roles": ["leader"]}, "level": "urgent"}
        )
        publish(s, admin, {"title_zh": "已过期", "starts_at": now - timedelta(days=3),
                           "ends_at": now - timedelta(days=1)})  # fmt: skip
        publish(s, admin, {"title_zh": "明天开始", "starts_at": now + timedelta(days=1)})
    assert _titles(db, "bj_cm") == ["系统升级", "北京分行通知"]
    assert _titles(db, "sh_cm") == ["系统升级"]
    assert _titles(db, "leader") == ["领导专阅", "系统升级"]  # urgent first
    assert _titles(db, "leader", "en")[1] == "Upgrade"


def test_only_administrators_publish_and_bad_input_changes_nothing(db):
    with pytest.raises(Forbidden), db.session() as s, s.begin():
        publish(s, _user(s, "leader"), {"title_zh": "x"})
    for fields in (
        {"title_zh": ""},
        {"title_zh": "x", "level": "panic"},
        {"title_zh": "x", "ends_at": "yesterday"},
        {"title_zh": "x", "starts_at": "2027-01-02", "ends_at": "2027-01-01"},
        {"title_zh": "x", "body": "y" * 6000},
    ):
        with pytest.raises(Invalid), db.session() as s, s.begin():
            publish(s, _user(s, "admin"), fields)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Announcement)) == 0


def test_a_withdrawn_announcement_disappears(db):
    with db.session() as s, s.begin():
        item = publish(s, _user(s, "admin"), {"title_zh": "临时通知"})
        item_id = item.id
    assert _titles(db, "analyst") == ["临时通知"]
    with db.session() as s, s.begin():
        withdraw(s, _user(s, "admin"), item_id)
    assert _titles(db, "analyst") == []
