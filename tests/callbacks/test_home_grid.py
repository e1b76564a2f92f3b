"""The home page's widgets and customising, by calling the layout and callbacks as users."""

from __future__ import annotations

import sys

import dash
import pytest
from flask_login import current_user
from sqlalchemy import select

from callbacks.home_grid import (
    change_widgets,
    load_widget,
    render_grid,
    save_positions,
    save_tiles,
    toggle_editing,
)
from components.home_widgets import RENDERERS
from portal.db import get_db
from portal.models import Resource
from portal.services.activity import record_view, set_favorite
from portal.services.home_layout import load_layout
from tests.component_tree import find_all_by_class, texts_in
from tests.conftest import request_as


def _widget_ids(grid) -> list[str]:
    return [getattr(w, "data-widget") for w in find_all_by_class(grid, "home-widget")]


def test_three_users_get_different_home_pages(app):
    home = sys.modules["pages.home"]
    pages = {}
    for user in ("leader", "bj_cm", "analyst"):
        with request_as(app, user, headers={"Accept-Language": "zh-CN"}):
            pages[user] = _widget_ids(home.layout())
    assert pages["leader"][:2] == ["carousel", "kpis"]
    assert pages["bj_cm"][0] == "quick_entry" and "carousel" not in pages["bj_cm"]
    assert pages["analyst"] != pages["leader"] and "activity" in pages["analyst"]


@pytest.mark.parametrize("widget", sorted(RENDERERS))
def test_every_widget_renders_for_every_kind_of_user(app, widget):
    for user in ("leader", "bj_cm", "analyst", "admin"):
        with request_as(app, user, headers={"Accept-Language": "en"}):
            body = load_widget({"type": "home-widget-body", "widget": widget})
        assert body is not None
        assert not find_all_by_class(body, "widget-error"), (widget, user, texts_in(body))


def test_quick_entry_shows_the_users_tiles_and_branch_systems(app):
    with request_as(app, "bj_cm", headers={"Accept-Language": "zh-CN"}):
        tiles = find_all_by_class(load_widget({"widget": "quick_entry"}), "quick-tile")
    keys = [getattr(t, "data-key") for t in tiles]
    assert "bj-marketing" in keys and "cockpit" not in keys and len(keys) <= 9
    with request_as(app, "sh_cm"):
        keys = [
            getattr(t, "data-key")
            for t in find_all_by_class(load_widget({"widget": "quick_entry"}), "quick-tile")
        ]
    assert "bj-marketing" not in keys


def test_recents_and_favorites_follow_what_the_user_opened_and_starred(app):
    with request_as(app, "analyst", headers={"Accept-Language": "en"}) as user:
        with get_db().session() as s, s.begin():
            npl = s.scalar(select(Resource).where(Resource.key == "npl_ratio"))
            record_view(s, user, npl)
            set_favorite(s, user, npl.id, True)
        recent = texts_in(load_widget({"widget": "recent"}))
        starred = texts_in(load_widget({"widget": "favorites"}))
        activity = texts_in(load_widget({"widget": "activity"}))
    assert "NPL ratio" in recent and "NPL ratio" in starred
    assert "1" in activity


def test_a_failing_widget_shows_its_own_error(app, monkeypatch):
    import components.home_widgets as widgets

    def broken(user, locale):
        raise RuntimeError("store down")

    monkeypatch.setitem(widgets.RENDERERS, "recent", broken)
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        body = load_widget({"widget": "recent"})
        other = load_widget({"widget": "favorites"})
    assert find_all_by_class(body, "widget-error") and not find_all_by_class(other, "widget-error")


def test_customising_adds_moves_removes_and_restores(app):
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        editing, is_open, _label = toggle_editing(1, False)
        assert editing and is_open
        grid = render_grid(None, True)
        assert type(grid).__name__ == "DashGridLayout"
    with request_as(app, "bj_cm"), _triggered("home-add", 1):
        layout, options, _status = change_widgets(1, None, [], "leaderboard")
    assert "leaderboard" in [w["id"] for w in layout["widgets"]]
    assert "leaderboard" not in [o["value"] for o in options]
    moved = [{"i": "leaderboard", "x": 8, "y": 0, "w": 4, "h": 8}]
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        assert save_positions(moved, True) == "Layout saved"
        grid = render_grid(None, False)
        with get_db().session() as s:
            saved = load_layout(s, current_user)[0]
    board = next(w for w in saved["widgets"] if w["id"] == "leaderboard")
    assert (board["x"], board["y"], board["w"], board["h"]) == (8, 0, 4, 8)
    assert "leaderboard" in _widget_ids(grid)
    with (
        request_as(app, "bj_cm"),
        _triggered({"type": "home-widget-remove", "widget": "leaderboard"}, 1),
    ):
        layout, *_ = change_widgets(None, None, [1], None)
    assert "leaderboard" not in [w["id"] for w in layout["widgets"]]
    with request_as(app, "bj_cm"), _triggered("home-reset", 1):
        layout, *_ = change_widgets(None, 1, [], None)
    assert [w["id"] for w in layout["widgets"]][0] == "quick_entry"


def test_positions_are_not_saved_outside_edit_mode(app):
    from dash.exceptions import PreventUpdate

    with request_as(app, "bj_cm"), pytest.raises(PreventUpdate):
        save_positions([{"i": "recent", "x": 0, "y": 0, "w": 4, "h": 4}], False)


def test_tiles_dialog_saves_order_and_refuses_foreign_tiles(app):
    options = [{"label": k, "value": k} for k in ("search", "store", "reports")]
    with request_as(app, "bj_cm"):
        is_open, feedback, redrawn = save_tiles(1, ["store", "search"], options)
        assert is_open is False
        keys = [
            getattr(t, "data-key")
            for t in find_all_by_class(load_widget({"widget": "quick_entry"}), "quick-tile")
        ]
        assert keys[:2] == ["store", "search"] and "reports" not in keys
        assert [getattr(t, "data-key") for t in find_all_by_class(redrawn, "quick-tile")] == keys
        is_open, feedback, redrawn = save_tiles(
            1, ["cockpit"], [{"label": "x", "value": "cockpit"}]
        )
    assert is_open is True and feedback is not None and redrawn is dash.no_update


class _triggered:
    """Run a callback as if `prop_id` had been clicked (Dash's callback context)."""

    def __init__(self, component_id, value):
        import json

        key = (
            json.dumps(component_id, separators=(",", ":"), sort_keys=True)
            if isinstance(component_id, dict)
            else component_id
        )
        self.inputs = [{"prop_id": f"{key}.n_clicks", "value": value}]

    def __enter__(self):
        from dash._callback_context import context_value
        from dash._utils import AttributeDict

        self.token = context_value.set(
            AttributeDict(
                triggered_inputs=self.inputs, inputs_list=[], states_list=[], outputs_list=[]
            )
        )

    def __exit__(self, *exc):
        from dash._callback_context import context_value

        context_value.reset(self.token)
