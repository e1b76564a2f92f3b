"""Views, favorites, recents and the leaderboard (SPEC §2.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import NotFound
from portal.models import Favorite, Resource, User, View, utcnow
from portal.services.activity import (
    can_view,
    favorites,
    leaderboard,
    my_activity,
    recently_viewed,
    record_view,
    resource_url,
    set_favorite,
)


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _metric(s, key):
    return s.scalar(select(Resource).where(Resource.type == "metric", Resource.key == key))


def test_views_are_recorded_once_a_minute_and_feed_recents(db):
    now = utcnow()
    with db.session() as s, s.begin():
        user = _user(s, "analyst")
        deposit, loan = _metric(s, "deposit_balance"), _metric(s, "loan_balance")
        assert record_view(s, user, deposit, at=now - timedelta(minutes=5)) is not None
        assert record_view(s, user, loan, at=now - timedelta(minutes=2)) is not None
        assert record_view(s, user, loan, at=now - timedelta(minutes=1, seconds=30)) is None
        assert record_view(s, user, deposit, at=now) is not None
    with db.session() as s:
        user = _user(s, "analyst")
        recent = recently_viewed(s, user, locale="en")
        assert [r["key"] for r in recent] == ["deposit_balance", "loan_balance"]
        assert (
            recent[0]["title"] == "Deposit balance"
            and recent[0]["url"] == "/metrics/deposit_balance"
        )
        activity = my_activity(s, user)
        assert activity["views"] == 3 and activity["resources"] == 2
        assert recently_viewed(s, _user(s, "bj_cm")) == []


def test_favorites_toggle_idempotently(db):
    with db.session() as s, s.begin():
        user, metric = _user(s, "bj_cm"), _metric(s, "npl_ratio")
        assert set_favorite(s, user, metric.id, True) is True
        assert set_favorite(s, user, metric.id, True) is True
    with db.session() as s:
        user = _user(s, "bj_cm")
        assert [f["key"] for f in favorites(s, user, "zh_CN")] == ["npl_ratio"]
        assert s.scalar(select(func.count()).select_from(Favorite)) == 1
    with db.session() as s, s.begin():
        assert set_favorite(s, _user(s, "bj_cm"), _metric(s, "npl_ratio").id, False) is False
    with db.session() as s:
        assert favorites(s, _user(s, "bj_cm")) == []


def test_a_private_resource_cannot_be_starred_or_seen_by_others(db):
    with db.session() as s, s.begin():
        owner = _user(s, "analyst")
        private = Resource(type="dashboard", key="mine", title_zh="我的", title_en="Mine")
        private.owner_id = owner.id
        s.add(private)
        s.flush()
        private_id = private.id
        assert can_view(s, owner, private) and not can_view(s, _user(s, "bj_cm"), private)
    with pytest.raises(NotFound), db.session() as s, s.begin():
        set_favorite(s, _user(s, "bj_cm"), private_id, True)
    with pytest.raises(NotFound), db.session() as s, s.begin():
        set_favorite(s, _user(s, "bj_cm"), 10**9, True)


def test_the_leaderboard_counts_recent_views_and_filters_what_the_viewer_may_see(db):
    now = utcnow()
    with db.session() as s, s.begin():
        deposit, loan = _metric(s, "deposit_balance"), _metric(s, "loan_balance")
        for name in ("analyst", "leader", "bj_cm"):
            record_view(s, _user(s, name), deposit, at=now)
        record_view(s, _user(s, "analyst"), loan, at=now)
        s.add(View(user_id=_user(s, "leader").id, resource_id=loan.id, at=now - timedelta(days=90)))
    with db.session() as s:
        board = leaderboard(s, "zh_CN", days=30)
        assert [(r["key"], r["views"]) for r in board["resources"]] == [
            ("deposit_balance", 3),
            ("loan_balance", 1),
        ]
        assert board["users"][0]["views"] == 2
        hidden = leaderboard(s, visible=lambda r: r.key != "deposit_balance")
        assert [r["key"] for r in hidden["resources"]] == ["loan_balance"]


def test_resource_urls():
    assert resource_url(Resource(type="dashboard", key="d1")) == "/dashboards/d1"
    assert (
        resource_url(Resource(type="report", key="r", spec={"url": "https://x/"})) == "https://x/"
    )
    assert resource_url(Resource(type="tile", key="t")) == "/"
