"""The search page and the navigation bar's search box, by calling layouts and callbacks."""

from __future__ import annotations

from dash import html
from sqlalchemy import select

from callbacks.search import request_access, run_search
from portal.db import get_db
from portal.models import AccessRequest, Resource
from tests.component_tree import texts_in
from tests.conftest import request_as


def _cards(results) -> list:
    return [c for c in results if "search-result" in (getattr(c, "className", "") or "")]


def _run(q, types=None, domain=None, owner=None, page=1):
    return run_search(q, types or [], domain, owner, page)


def test_chinese_pinyin_and_english_find_the_deposit_balance(app):
    for q, lang in (("存款余额", "zh-CN"), ("ckye", "zh-CN"), ("deposit balanse", "en")):
        with request_as(app, "analyst", headers={"Accept-Language": lang}):
            results, summary, types, *_rest = _run(q)
        cards = _cards(results)
        assert cards, q
        assert getattr(cards[0], "data-key") == "deposit_balance", (
            q,
            [getattr(c, "data-key") for c in cards],
        )
        assert any(o["value"] == "metric" for o in types)
    assert "results" in summary


def _marks(component) -> list[str]:
    if isinstance(component, list | tuple):
        return [m for c in component for m in _marks(c)]
    if isinstance(component, html.Mark):
        return [component.children]
    children = getattr(component, "children", None)
    return _marks(children) if children is not None else []


def test_highlight_marks_the_matched_text(app):
    with request_as(app, "analyst"):
        results, *_rest = _run("存款")
    assert "存款" in "".join(_marks(results[0]))


def test_type_facet_filters_and_counts(app):
    with request_as(app, "analyst"):
        _results, _s, types, *_ = _run("客户")
        counts = {o["value"]: o["label"] for o in types}
        results, *_ = _run("客户", types=["dataset"])
    assert {"metric", "dataset"} <= set(counts)
    assert {getattr(c, "data-type") for c in _cards(results)} == {"dataset"}


def test_a_customer_manager_sees_datasets_locked_and_can_request_access(app):
    with request_as(app, "bj_cm"):
        results, *_ = _run("交易流水", types=["dataset"])
    card = _cards(results)[0]
    assert "locked" in card.className
    assert "Request access" in texts_in(card) or "申请权限" in texts_in(card)
    with get_db_session(app) as s:
        dataset = s.scalar(select(Resource.id).where(Resource.key == "fact_transaction"))
    with request_as(app, "bj_cm"):
        children, disabled = request_access(
            1, {"type": "search-request-access", "resource": dataset}
        )
    assert disabled is True
    with get_db_session(app) as s:
        assert s.scalar(select(AccessRequest).where(AccessRequest.resource_id == dataset))


def test_empty_too_long_and_odd_queries_answer_clearly(app):
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        empty, *_ = _run("   ")
        long, *_ = _run("x" * 500)
        odd, summary, *_ = _run("'; DROP TABLE resources; --")
    assert "Type what you are looking for." in texts_in(empty)
    assert any("too long" in t for t in texts_in(long))
    assert summary == "0 results"
    with get_db_session(app) as s:
        assert s.scalar(select(Resource.id).limit(1)) is not None


def test_the_navbar_has_a_search_form(client):
    page = client.get("/")
    assert page.status_code == 200
    layout = client.get("/_dash-layout").get_json()
    form = _find_type(layout, "Form")
    assert form["props"]["action"] == "/search" and form["props"]["method"] == "GET"
    assert _find_type(form, "Input")["props"]["name"] == "q"


def _find_type(node, kind):
    if isinstance(node, list):
        return next((f for n in node if (f := _find_type(n, kind))), None)
    if not isinstance(node, dict):
        return None
    if node.get("type") == kind:
        return node
    return _find_type(node.get("props", {}).get("children"), kind)


class get_db_session:  # noqa: N801 - used like a function
    def __init__(self, app):
        self.app = app

    def __enter__(self):
        self.ctx = self.app.app_context()
        self.ctx.push()
        self.session = get_db().session()
        return self.session

    def __exit__(self, *exc):
        self.session.close()
        self.ctx.pop()
