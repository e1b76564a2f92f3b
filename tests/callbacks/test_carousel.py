"""The carousel widget, its slides, the "choose slides" dialog and the metric detail page."""

from __future__ import annotations

import dash
import pytest
from dash import dcc, html
from dash.development.base_component import Component
from sqlalchemy import select

from callbacks.carousel import load_detail, load_slide, save_choice
from components.carousel import (
    BARS,
    CHOOSE_LIST,
    CHOOSE_RESET,
    CHOOSE_SAVE,
    SLIDE_BODY,
    carousel_widget,
)
from components.formatting import format_value
from datasources.relations import FullAccess
from portal.db import get_db
from portal.models import UserSetting
from portal.services.slides import seed_screen_demo
from tests.component_tree import find_all, find_all_by_class, texts_in
from tests.conftest import request_as


@pytest.fixture
def seeded(app):
    with app.app_context(), get_db().session() as s, s.begin():
        seed_screen_demo(s)
    return app


def walk(tree) -> list:
    """Return every component of a tree (strings and numbers left out)."""
    return find_all(tree, lambda c: isinstance(c, Component))


class _Ctx:
    def __init__(self, trigger):
        self.triggered_id = trigger


def _body_id(metric: str, breakdown: str = "branch", index: int = 0) -> dict:
    return {
        "type": SLIDE_BODY,
        "carousel": "home",
        "index": index,
        "metric": metric,
        "breakdown": breakdown,
    }


def test_the_widget_shows_the_audience_default_set(seeded):
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}) as user:
        widget = carousel_widget(user, "en")
    bodies = [c.id for c in walk(widget) if isinstance(getattr(c, "id", None), dict)]
    slides = [b for b in bodies if b["type"] == SLIDE_BODY]
    assert [b["metric"] for b in slides][:3] == ["deposit_balance", "loan_balance", "npl_ratio"]
    assert len(find_all_by_class(widget, "carousel-dot")) == len(slides) == 7
    assert find_all_by_class(widget, "carousel-slide")[0].className.endswith("active")
    links = [c for c in walk(widget) if getattr(c, "href", None) == "/bigscreen/executive"]
    assert links, "the widget links to its set's big screen"
    checklist = next(
        c
        for c in walk(widget)
        if getattr(c, "id", None) == {"type": CHOOSE_LIST, "carousel": "home"}
    )
    assert {o["value"] for o in checklist.options} >= {"deposit_balance", "churn_rate"}
    assert checklist.value[:2] == ["deposit_balance", "loan_balance"]
    interval = next(c for c in walk(widget) if isinstance(c, dcc.Interval))
    assert interval.interval == 8000


def test_a_slide_shows_the_service_figures_and_the_branch_breakdown(seeded):
    service = seeded.extensions["metric_service"]
    expected = service.query(FullAccess(service.warehouse), "deposit_balance", locale="en")
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}):
        body = load_slide(_body_id("deposit_balance"))
    value = find_all_by_class(body, "slide-value")[0]
    assert value.children == format_value(expected["rows"][0]["value"], "currency", "en")
    graphs = [c for c in walk(body) if isinstance(c, dcc.Graph)]
    bars = next(g for g in graphs if g.figure["data"][0]["type"] == "bar")
    assert (
        len(bars.figure["data"][0]["y"]) == 12 and "Beijing Branch" in bars.figure["data"][0]["y"]
    )
    assert bars.id["type"] == BARS and bars.id["metric"] == "deposit_balance"
    spark = next(g for g in graphs if g.figure["data"][0]["type"] == "scatter")
    assert len(spark.figure["data"][0]["x"]) == 12
    assert spark.figure["layout"]["xaxis"].get("visible", True)  # the months are labelled
    assert any(t == "12-month high" for t in texts_in(body))
    link = find_all_by_class(body, "slide-value-link")[0]
    assert link.href == "/metrics/deposit_balance?by=branch"


def test_a_branch_user_sees_their_own_figures(seeded):
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}):
        bank = find_all_by_class(load_slide(_body_id("loan_balance")), "slide-value")[0].children
    with request_as(seeded, "bj_cm", headers={"Accept-Language": "en"}):
        body = load_slide(_body_id("loan_balance"))
    assert find_all_by_class(body, "slide-value")[0].children != bank
    bars = next(
        c for c in walk(body) if isinstance(c, dcc.Graph) and c.figure["data"][0]["type"] == "bar"
    )
    assert bars.figure["data"][0]["y"] == ["Beijing Branch"]


@pytest.mark.parametrize(
    "body_id",
    [
        _body_id("no_such_metric"),
        _body_id("deposit_balance", breakdown="no_such_dimension"),
        "not-a-dict",
    ],
)
def test_a_bad_slide_shows_a_translated_alert(seeded, body_id):
    with request_as(seeded, "leader", headers={"Accept-Language": "zh-CN"}):
        body = load_slide(body_id)
    alert = find_all_by_class(body, "slide-error")
    assert alert, body
    assert not " ".join(texts_in(alert)).isascii()


def test_choosing_slides_saves_them_and_redraws_the_carousel(seeded, monkeypatch):
    list_id = {"type": CHOOSE_LIST, "carousel": "home"}
    with request_as(seeded, "analyst", headers={"Accept-Language": "en"}) as user:
        monkeypatch.setattr(dash, "ctx", _Ctx({"type": CHOOSE_SAVE, "carousel": "home"}))
        card, value, is_open, feedback = save_choice(
            1, 0, ["npl_ratio", "deposit_balance"], list_id
        )
        assert value == ["deposit_balance", "npl_ratio"]  # catalog order
        assert is_open is False and "saved" in " ".join(texts_in(feedback))
        shown = [
            c.id["metric"]
            for c in walk(card)
            if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == SLIDE_BODY
        ]
        assert shown == ["deposit_balance", "npl_ratio"]
        with get_db().session() as s:
            stored = s.scalar(select(UserSetting).where(UserSetting.user_id == user.id))
            assert [x["metric"] for x in stored.value["slides"]] == value

        # An empty choice is refused in the dialog; the stored choice stays.
        card, value, is_open, feedback = save_choice(2, 0, [], list_id)
        assert card is dash.no_update and value is dash.no_update and is_open is True
        assert "at least one" in " ".join(texts_in(feedback))
        with get_db().session() as s:
            stored = s.scalar(select(UserSetting).where(UserSetting.user_id == user.id))
            assert [x["metric"] for x in stored.value["slides"]] == ["deposit_balance", "npl_ratio"]

        monkeypatch.setattr(dash, "ctx", _Ctx({"type": CHOOSE_RESET, "carousel": "home"}))
        card, value, is_open, feedback = save_choice(2, 1, None, list_id)
        assert value[0] == "customer_count"  # the retail set, analysts' default
        with get_db().session() as s:
            assert s.scalar(select(UserSetting).where(UserSetting.user_id == user.id)) is None


def test_the_metric_detail_shows_breakdown_trend_and_table(seeded):
    service = seeded.extensions["metric_service"]
    expected = service.query(FullAccess(service.warehouse), "npl_ratio", by=["region"], locale="en")
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}):
        body = load_detail("region", "npl_ratio", "North")
    graphs = [c for c in walk(body) if isinstance(c, dcc.Graph)]
    line = next(g for g in graphs if g.figure["data"][0]["type"] == "scatter")
    assert len(line.figure["data"][0]["x"]) == 24
    grid = next(c for c in walk(body) if type(c).__name__ == "AgGrid")
    assert {r["key"] for r in grid.rowData} == {r["region"] for r in expected["rows"]}
    assert [r["key"] for r in grid.rowData if r["focus"]] == ["North"]
    assert all(r["value_text"].endswith("%") for r in grid.rowData if r["value"] is not None)


def test_the_metric_detail_refuses_a_dimension_it_cannot_use(seeded):
    with request_as(seeded, "leader", headers={"Accept-Language": "zh-CN"}):
        body = load_detail("channel", "npl_ratio", None)
    assert find_all_by_class(body, "slide-error") and not " ".join(texts_in(body)).isascii()


def test_the_metric_detail_page_layout(seeded, client):
    page = dash.page_registry["pages.metric_detail"]
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}):
        good = page["layout"](metric_id="deposit_balance", by="segment")
        bad = page["layout"](metric_id="nope")
    dropdown = next(c for c in walk(good) if isinstance(c, dcc.Dropdown))
    assert dropdown.value == "segment" and "month" not in [o["value"] for o in dropdown.options]
    assert "Unknown metric: nope" in " ".join(texts_in(bad))
    assert isinstance(good, html.Div)
    assert client.get("/metrics/deposit_balance").status_code == 200


def test_rotation_runs_in_the_browser(seeded):
    dash_app = seeded.extensions["dash"]
    functions = {
        cb["clientside_function"]["function_name"]
        for cb in dash_app._callback_list
        if cb.get("clientside_function")
    }
    assert {"rotate", "openDetail", "tick", "heartbeat"} <= functions
    server = {cb["output"] for cb in dash_app._callback_list if not cb.get("clientside_function")}
    assert any("carousel-slide-body" in o for o in server)
    assert not any("carousel-state" in o for o in server)  # no server round trip to rotate
