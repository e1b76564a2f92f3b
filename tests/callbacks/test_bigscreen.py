"""The big screen: its frame, permission, scheduled refresh and what it does when loads fail."""

from __future__ import annotations

import dash
import pytest
from dash import dcc

import callbacks.bigscreen as B
from components.carousel import BS_LAST, BS_REFRESH, BS_SLIDE
from components.formatting import format_value
from datasources.relations import FullAccess
from portal.db import get_db
from portal.errors import Unavailable
from portal.services.slides import seed_screen_demo
from tests.callbacks.test_carousel import walk
from tests.component_tree import find_all_by_class, texts_in
from tests.conftest import request_as


@pytest.fixture
def seeded(app):
    with app.app_context(), get_db().session() as s, s.begin():
        seed_screen_demo(s)
    return app


def _page(app, name: str):
    return dash.page_registry[name]["layout"]


def _assigned(patch) -> dict:
    """Return {index: component} of the slides a Patch replaces."""
    out = {}
    for op in patch._operations:
        assert op["operation"] == "Assign"
        out[op["location"][0]] = op["params"]["value"]
    return out


def test_the_screen_frame_has_no_chrome_a_clock_and_the_sets_timing(seeded):
    with request_as(seeded, "leader", headers={"Accept-Language": "zh-CN"}):
        page = _page(seeded, "pages.bigscreen")(set_key="executive")
    assert "bigscreen" in page.className.split()  # assets/bigscreen.css hides the navbar
    assert find_all_by_class(page, "bigscreen-title")[0].children == "经营驾驶舱"
    slides = [
        c
        for c in walk(page)
        if isinstance(getattr(c, "id", None), dict) and c.id["type"] == BS_SLIDE
    ]
    assert len(slides) == 7
    store = next(c for c in walk(page) if getattr(c, "id", None) == BS_LAST)
    assert store.data == {"at": None, "refresh_s": 300, "interval_s": 8}
    refresh = next(c for c in walk(page) if isinstance(c, dcc.Interval) and c.id == BS_REFRESH)
    assert refresh.interval == 300_000
    texts_store = next(c for c in walk(page) if getattr(c, "id", None) == "bigscreen-texts")
    assert "连接已断开" in texts_store.data["lost"] and "%(time)s" in texts_store.data["lost"]


def test_a_set_outside_the_users_audience_is_refused(seeded):
    with request_as(seeded, "bj_cm", headers={"Accept-Language": "en"}):
        refused = _page(seeded, "pages.bigscreen")(set_key="executive")
        missing = _page(seeded, "pages.bigscreen")(set_key="nope")
        index = _page(seeded, "pages.bigscreen_index")()
        stage, stamp, note = B.load_screen(1, "executive", None)
    assert "not shared with you" in " ".join(texts_in(refused))
    assert "There is no slide set nope." in " ".join(texts_in(missing))
    links = [c.href for c in walk(index) if getattr(c, "href", "").startswith("/bigscreen/")]
    assert links == ["/bigscreen/retail"]
    assert stage == [] and stamp is dash.no_update and "not shared" in " ".join(texts_in(note))


def test_a_refresh_recomputes_every_slide_in_the_viewers_scope(seeded):
    service = seeded.extensions["metric_service"]
    bank = service.query(FullAccess(service.warehouse), "customer_count", locale="en")
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}):
        patch, stamp, note = B.load_screen(0, "retail", None)
    slides = _assigned(patch)
    assert sorted(slides) == list(range(6)) and note is None
    assert stamp["at"] and stamp["refresh_s"] == 300 and stamp["failed"] == 0
    first = slides[0]
    assert find_all_by_class(first, "bs-value")[0].children == format_value(
        bank["rows"][0]["value"], "count", "en"
    )
    assert [s.className.endswith("active") for s in slides.values()].count(True) == 1
    assert find_all_by_class(first, "bs-details")  # what a phone lists instead of the charts
    with request_as(seeded, "bj_cm", headers={"Accept-Language": "en"}):
        patch, _stamp, _note = B.load_screen(0, "retail", None)
    mine = find_all_by_class(_assigned(patch)[0], "bs-value")[0].children
    assert mine != find_all_by_class(first, "bs-value")[0].children


def test_when_the_warehouse_is_down_the_screen_keeps_its_last_figures(seeded, monkeypatch):
    def down(*_a, **_kw):
        raise Unavailable("the warehouse did not answer", code="warehouse_unreachable")

    monkeypatch.setattr(B, "slide_data", down)
    last = {"at": "2026-12-03T08:00:00+00:00", "refresh_s": 300, "interval_s": 8}
    with request_as(seeded, "leader", headers={"Accept-Language": "zh-CN"}):
        stage, stamp, note = B.load_screen(3, "risk", last)
        assert stage is dash.no_update and stamp is dash.no_update  # last figures and time kept
        assert "数据未能刷新" in " ".join(texts_in(note))
        # On the very first load there is nothing to keep: each slide says why it is empty.
        patch, stamp, _note = B.load_screen(0, "risk", {"at": None})
    assert stamp is dash.no_update
    assert all(find_all_by_class(s, "bs-slide-error") for s in _assigned(patch).values())


def test_one_failing_slide_keeps_its_figures_and_the_rest_refresh(seeded, monkeypatch):
    real = B.slide_data

    def flaky(service, tables, slide, locale):
        if slide["metric"] == "npl_balance":
            raise RuntimeError("boom")
        return real(service, tables, slide, locale)

    monkeypatch.setattr(B, "slide_data", flaky)
    last = {"at": "2026-12-03T08:00:00+00:00", "refresh_s": 300, "interval_s": 8}
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}):
        patch, stamp, note = B.load_screen(4, "risk", last)
    assert sorted(_assigned(patch)) == [0, 2, 3]  # slide 1 (npl_balance) untouched
    assert stamp["failed"] == 1 and "Figures not refreshed: 1" in " ".join(texts_in(note))


def test_every_display_of_a_set_shows_the_same_slide():
    assert B.active_index(7, 8, now=0) == 0
    assert B.active_index(7, 8, now=8.5) == 1
    assert B.active_index(7, 8, now=8 * 7 + 1) == 0
    assert B.active_index(0, 8) == 0
