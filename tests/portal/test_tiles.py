"""Quick-entry tiles: visibility by role, group and branch; personal order; administration."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Resource, User, UserSetting
from portal.services.tiles import (
    delete_tile,
    is_new,
    save_preferences,
    save_tile,
    tile_for,
    visible_tiles,
)


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _keys(db, username, **kwargs):
    with db.session() as s:
        return [t["key"] for t in visible_tiles(s, _user(s, username), **kwargs)]


def test_each_user_sees_the_tiles_meant_for_them(db):
    leader, analyst = _keys(db, "leader"), _keys(db, "analyst")
    bj_cm, sh_cm = _keys(db, "bj_cm"), _keys(db, "sh_cm")
    assert "cockpit" in leader and "cockpit" not in analyst  # leaders only
    assert "pivot" in analyst and "pivot" not in bj_cm  # data readers only
    assert "bj-marketing" in bj_cm and "bj-marketing" not in sh_cm  # BJ and its sub-branches
    assert "report-platform" in bj_cm and "report-platform" in sh_cm
    assert leader[:3] == ["search", "pivot", "dashboards"]  # the administrator's order


def test_the_new_badge_lasts_until_its_date():
    assert is_new({"new_until": "2027-03-31"}, today=date(2027, 3, 31))
    assert not is_new({"new_until": "2027-03-31"}, today=date(2027, 4, 1))
    assert not is_new({"new_until": "garbage"}) and not is_new({})


def test_personal_order_and_hiding_survive_and_are_validated(db):
    with db.session() as s, s.begin():
        save_preferences(s, _user(s, "bj_cm"), ["store", "search"], ["reports"])
    keys = _keys(db, "bj_cm")
    assert keys[:2] == ["store", "search"] and "reports" not in keys
    assert "reports" in _keys(db, "bj_cm", include_hidden=True)
    with db.session() as s:
        before = s.scalar(select(UserSetting.value).where(UserSetting.key == "tiles"))
    for order, hidden in ((["cockpit"], []), ("store", []), ([], ["nope"])):
        with pytest.raises(Invalid), db.session() as s, s.begin():
            save_preferences(s, _user(s, "bj_cm"), order, hidden)  # cockpit: leaders only
    with db.session() as s:
        assert s.scalar(select(UserSetting.value).where(UserSetting.key == "tiles")) == before


def test_a_malformed_saved_order_falls_back_to_the_default(db):
    with db.session() as s, s.begin():
        user = _user(s, "analyst")
        s.add(UserSetting(user_id=user.id, key="tiles", value={"version": 9, "order": 3}))
    assert _keys(db, "analyst")[0] == "search"


def test_only_administrators_manage_tiles_and_it_is_audited(db):
    fields = {
        "key": "crm",
        "title_zh": "客户关系管理",
        "title_en": "CRM",
        "url": "https://crm.bank.example/",
        "sso": True,
        "visibility": {"roles": ["customer_manager"]},
        "new_until": "2099-01-01",
    }
    with pytest.raises(Forbidden), db.session() as s, s.begin():
        save_tile(s, _user(s, "security"), fields)
    with db.session() as s, s.begin():
        save_tile(s, _user(s, "admin"), fields)
    assert "crm" in _keys(db, "bj_cm") and "crm" not in _keys(db, "leader")
    with db.session() as s:
        tile = next(t for t in visible_tiles(s, _user(s, "bj_cm")) if t["key"] == "crm")
        assert tile["new"] and tile["sso"] and tile["launch"] == "/sso/launch/crm"
        events = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.event_type == "tile_created")
        )
        assert events == 1
    with db.session() as s, s.begin():
        delete_tile(s, _user(s, "admin"), "crm")
    assert "crm" not in _keys(db, "bj_cm")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"key": "Bad Key"}, "bad_key"),
        ({"url": "javascript:alert(1)"}, "bad_url"),
        ({"url": "//evil.example/"}, "bad_url"),
        ({"title_zh": ""}, "bad_title"),
        ({"icon": "<b>"}, "bad_icon"),
        ({"new_until": "next week"}, "bad_date"),
        ({"visibility": {"roles": "a,b", "groups": [1]}}, "bad_visibility"),
    ],
)
def test_bad_tile_definitions_are_refused_and_change_nothing(db, change, code):
    fields = {"key": "ok", "title_zh": "好", "url": "/store", **change}
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Resource))
    with pytest.raises(Invalid) as info, db.session() as s, s.begin():
        save_tile(s, _user(s, "admin"), fields)
    assert info.value.code == code
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resource)) == before


def test_a_hidden_tile_cannot_be_opened_by_key(db):
    with pytest.raises(NotFound), db.session() as s:
        tile_for(s, _user(s, "analyst"), "cockpit")
    with db.session() as s:
        assert tile_for(s, _user(s, "leader"), "cockpit").key == "cockpit"
