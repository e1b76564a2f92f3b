"""Home page administration: tiles and announcements through the page's callbacks."""

from __future__ import annotations

import sys

import dash
import dash_bootstrap_components as dbc

from callbacks.admin_home import add_tile_row, publish_announcement, save_tiles
from components.admin_home import tile_rows
from portal.db import get_db
from portal.services.announcements import current_for
from portal.services.tiles import visible_tiles
from tests.conftest import request_as


def test_only_administrators_get_the_page(app):
    page = sys.modules["pages.admin_home"]
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        refused = page.layout()
    assert isinstance(refused, dbc.Alert)
    with request_as(app, "admin", headers={"Accept-Language": "en"}):
        assert not isinstance(page.layout(), dbc.Alert)


def test_an_administrator_adds_a_tile_for_one_branch(app):
    with request_as(app, "admin"):
        rows = tile_rows()
        rows, feedback = add_tile_row(1, "gz-crm", rows)
        new = rows[-1]
        new.update(title_zh="广州客户系统", url="https://crm.gz.example/", sso=True, branches="GZ")
        saved, feedback = save_tiles(1, rows)
    assert "gz-crm" in [r["key"] for r in saved]
    with request_as(app, "bj_cm") as user, get_db().session() as s:
        assert "gz-crm" not in [t["key"] for t in visible_tiles(s, user)]
    with request_as(app, "leader") as user, get_db().session() as s:
        assert "gz-crm" not in [t["key"] for t in visible_tiles(s, user)]


def test_a_bad_row_is_named_and_nothing_is_saved(app):
    with request_as(app, "admin"):
        rows = tile_rows()
        rows[0] = {**rows[0], "title_zh": "改过的"}  # valid, but saved with the bad row
        rows[1] = {**rows[1], "url": "javascript:alert(1)", "title_zh": "也改了"}
        unchanged, feedback = save_tiles(1, rows)
        assert unchanged is dash.no_update and rows[1]["key"] in str(feedback.children)
        titles = [r["title_zh"] for r in tile_rows()]
        assert "改过的" not in titles and "也改了" not in titles


def test_a_non_administrator_cannot_save_tiles_even_by_a_forged_callback(app):
    with request_as(app, "leader"):
        rows = tile_rows()
        rows[0]["title_zh"] = "篡改"
        _rows, feedback = save_tiles(1, rows)
    assert feedback.color == "danger"
    with request_as(app, "admin"):
        assert "篡改" not in [r["title_zh"] for r in tile_rows()]


def test_publishing_an_announcement_reaches_its_audience(app):
    with request_as(app, "admin", headers={"Accept-Language": "en"}):
        feedback, _list = publish_announcement(
            1, "上海分行系统升级", "Shanghai upgrade", "周六 22:00-24:00", "important",
            [], [], ["SH"], None,
        )  # fmt: skip
        assert feedback.color == "success"
        feedback, _ = publish_announcement(1, "", "", "", "info", [], [], [], None)
        assert feedback.color == "danger"
    with request_as(app, "sh_cm") as user, get_db().session() as s:
        assert [a["title"] for a in current_for(s, user)] == ["上海分行系统升级"]
    with request_as(app, "leader"):
        feedback, _ = publish_announcement(1, "x", "x", "", "info", [], [], [], None)
    assert feedback.color == "danger"
