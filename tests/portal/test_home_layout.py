"""The home page's layout document: defaults per role, validation, saving, role defaults."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.errors import Forbidden, Invalid
from portal.models import AuditEvent, User, UserSetting
from portal.services import home_layout as layouts


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _ids(layout):
    return [w["id"] for w in layout["widgets"]]


def test_each_role_starts_from_its_own_default(db):
    with db.session() as s:
        leader, source, notice = layouts.load_layout(s, _user(s, "leader"))
        analyst = layouts.load_layout(s, _user(s, "analyst"))[0]
        cm = layouts.load_layout(s, _user(s, "bj_cm"))[0]
        admin = layouts.load_layout(s, _user(s, "admin"))[0]
    assert source == "default" and notice is None
    assert _ids(leader)[:2] == ["carousel", "kpis"]
    assert _ids(analyst)[0] == "quick_entry" and "activity" in _ids(analyst)
    assert "kpis" in _ids(cm) and "carousel" not in _ids(cm)
    assert "carousel" not in _ids(admin)  # administrators see no business data
    for layout in (leader, analyst, cm, admin):
        for w in layout["widgets"]:
            assert w["x"] >= 0 and w["x"] + w["w"] <= 12


def test_a_saved_layout_survives_and_restore_default_forgets_it(db):
    with db.session() as s, s.begin():
        user = _user(s, "analyst")
        layout = layouts.load_layout(s, user)[0]
        moved = layouts.move_widgets(layout, {"recent": {"x": 8, "y": 40, "w": 4, "h": 7}})
        moved = layouts.remove_widget(layouts.add_widget(moved, "announcements"), "favorites")
        layouts.save_layout(s, user, moved)
    with db.session() as s:
        again, source, _notice = layouts.load_layout(s, _user(s, "analyst"))
        version = s.scalar(select(UserSetting.version).where(UserSetting.key == "home.layout"))
    assert source == "user" and again == moved and version == 1
    recent = next(w for w in again["widgets"] if w["id"] == "recent")
    assert (recent["x"], recent["y"], recent["h"]) == (8, 40, 7)
    assert "favorites" not in _ids(again)
    with db.session() as s, s.begin():
        layouts.save_layout(s, _user(s, "analyst"), again)
    with db.session() as s:
        assert s.scalar(select(UserSetting.version).where(UserSetting.key == "home.layout")) == 2
    with db.session() as s, s.begin():
        default = layouts.reset_layout(s, _user(s, "analyst"))
    with db.session() as s:
        assert layouts.load_layout(s, _user(s, "analyst")) == (default, "default", None)


@pytest.mark.parametrize(
    "stored",
    [
        "not a layout",
        {"version": 99, "widgets": []},
        {"version": 1, "widgets": "nope"},
    ],
)
def test_an_unreadable_saved_layout_falls_back_to_the_default_with_a_notice(db, stored):
    with db.session() as s, s.begin():
        user = _user(s, "bj_cm")
        s.add(UserSetting(user_id=user.id, key="home.layout", value=stored))
    with db.session() as s:
        layout, source, notice = layouts.load_layout(s, _user(s, "bj_cm"))
        default = layouts.default_layout(s, _user(s, "bj_cm"))
    assert layout == default and source == "default" and notice


def test_a_damaged_saved_layout_is_repaired_on_load(db):
    stored = {
        "version": 1,
        "widgets": [
            {"id": "recent", "x": 11, "y": 0, "w": 6, "h": 99},
            {"id": "recent", "x": 0, "y": 5, "w": 4, "h": 4},
            {"id": "<script>", "x": 0, "y": 0, "w": 4, "h": 4},
            {"id": "favorites", "x": "a", "y": 0, "w": 4, "h": 4},
        ],
    }
    with db.session() as s, s.begin():
        user = _user(s, "bj_cm")
        s.add(UserSetting(user_id=user.id, key="home.layout", value=stored))
    with db.session() as s:
        layout, source, notice = layouts.load_layout(s, _user(s, "bj_cm"))
    assert source == "user" and notice
    assert _ids(layout) == ["recent", "favorites"]
    recent = layout["widgets"][0]
    assert recent["x"] + recent["w"] <= 12 and recent["h"] == layouts.MAX_HEIGHT


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"version": 1, "widgets": [{"id": "nope", "x": 0, "y": 0, "w": 4, "h": 4}]},
        {"version": 1, "widgets": [{"id": "recent", "x": 0, "y": 0, "w": 4, "h": 4}] * 2},
        {"version": 1, "widgets": [{"id": "recent", "x": 0, "y": 0, "w": True, "h": 4}]},
    ],
)
def test_saving_a_bad_layout_is_refused_and_keeps_the_old_one(db, value):
    with db.session() as s, s.begin():
        user = _user(s, "analyst")
        good = layouts.save_layout(s, user, layouts.default_layout(s, user))
    with pytest.raises(Invalid), db.session() as s, s.begin():
        layouts.save_layout(s, _user(s, "analyst"), value)
    with db.session() as s:
        assert layouts.load_layout(s, _user(s, "analyst"))[0] == good


def test_an_administrator_sets_a_roles_default_and_it_is_audited(db):
    custom = {"version": 1, "widgets": [{"id": "announcements", "x": 0, "y": 0, "w": 12, "h": 4}]}
    with pytest.raises(Forbidden), db.session() as s, s.begin():
        layouts.save_role_default(s, _user(s, "leader"), "customer_manager", custom)
    with pytest.raises(Invalid), db.session() as s, s.begin():
        layouts.save_role_default(s, _user(s, "admin"), "no_such_role", custom)
    with db.session() as s, s.begin():
        layouts.save_role_default(s, _user(s, "admin"), "customer_manager", custom)
    with db.session() as s:
        assert layouts.load_layout(s, _user(s, "sh_cm"))[0] == custom
        assert _ids(layouts.load_layout(s, _user(s, "leader"))[0])[0] == "carousel"
        events = select(func.count()).select_from(AuditEvent)
        assert s.scalar(events.where(AuditEvent.event_type == "home_default_layout")) == 1


def test_add_widget_places_it_below_and_refuses_unknown_ones():
    layout = {"version": 1, "widgets": [{"id": "recent", "x": 0, "y": 0, "w": 4, "h": 6}]}
    added = layouts.add_widget(layout, "leaderboard")
    assert added["widgets"][-1] == {"id": "leaderboard", "x": 0, "y": 6, "w": 4, "h": 6}
    assert layouts.add_widget(added, "leaderboard") == added
    with pytest.raises(Invalid):
        layouts.add_widget(layout, "mystery")
