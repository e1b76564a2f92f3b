"""The reports registry: who sees which reports, filters, links and common reports (SPEC §4.4)."""

from __future__ import annotations

import sys
from datetime import timedelta
from unittest.mock import patch

import dash
import pytest
from sqlalchemy import func, select

from callbacks import reports as cb
from portal.db import get_db
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Favorite, Resource, User, View, utcnow
from portal.services import reports
from portal.services.pivot_demo import DEMO_PIVOTS, DEMO_REPORTS
from tests.component_tree import texts_in
from tests.conftest import request_as

LINK = {
    "title_zh": "同业监管指标",
    "title_en": "Interbank regulatory ratios",
    "url": "https://regulatory.bank.example/interbank",
    "platform": "监管报表平台",
    "category": "regulatory",
}


@pytest.fixture
def app(pivot_demo_app):
    return pivot_demo_app


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _list(app, username, **kwargs):
    with request_as(app, username, headers={"Accept-Language": "en"}), get_db().session() as s:
        return reports.list_reports(s, _user(s, username), locale="en", **kwargs)


def _count(app) -> int:
    with app.app_context(), get_db().session() as s:
        return s.scalar(select(func.count()).select_from(Resource).where(Resource.type == "report"))


def test_analyst_sees_links_and_shared_pivots_with_categories_and_owners(app):
    result = _list(app, "analyst")
    keys = {r["key"] for r in result["reports"]}
    assert set(DEMO_PIVOTS) | set(DEMO_REPORTS) <= keys
    by_key = {r["key"]: r for r in result["reports"]}
    g01 = by_key["demo-1104-g01"]
    assert g01["external"] and g01["url"] == "https://regulatory.bank.example/1104/G01"
    assert g01["platform"] == "监管报表平台" and g01["category"] == "regulatory"
    assert g01["category_name"] == "Regulatory reporting" and g01["owner"] == "赵强"
    risk = by_key["demo-risk-loan-grade"]
    assert risk["category"] == "risk" and risk["url"] == "/pivot?id=demo-risk-loan-grade"
    assert by_key["demo-ebank-channel-month"]["category"] == "ebank"
    assert by_key["demo-retail-payroll-branch"]["category"] == "retail"
    assert by_key["demo-finance-budget-branch"]["category"] == "finance"
    assert not risk["can_edit"] and result["can_add"] is True
    codes = [c["code"] for c in result["categories"]]
    assert codes[:2] == ["regulatory", "management"] and sum(
        c["count"] for c in result["categories"]
    ) == len(keys)


def test_the_system_administrator_sees_links_but_not_business_pivots(app):
    keys = {r["key"] for r in _list(app, "admin")["reports"]}
    assert set(DEMO_REPORTS) <= keys and not keys & set(DEMO_PIVOTS)


def test_filters_by_type_category_and_title(app):
    assert {r["type"] for r in _list(app, "analyst", type="report")["reports"]} == {"report"}
    pivots = _list(app, "analyst", type="pivot")["reports"]
    assert pivots and {r["type"] for r in pivots} == {"pivot"}
    regulatory = _list(app, "analyst", category="regulatory")
    assert {r["category"] for r in regulatory["reports"]} == {"regulatory"}
    assert len(regulatory["reports"]) == 3
    assert [r["key"] for r in _list(app, "analyst", q="1104")["reports"]] == [
        "demo-1104-g01",
        "demo-1104-g11",
    ]
    assert {r["key"] for r in _list(app, "analyst", q="COCKPIT")["reports"]} == {
        "demo-cockpit-monthly"
    }
    assert _list(app, "analyst", q="驾驶舱", type="pivot")["reports"] == []
    assert _list(app, "analyst", q="nothing like this")["reports"] == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"type": "app"}, "bad_type"),
        ({"category": "x"}, "bad_category"),
        ({"q": "x" * 101}, "bad_query"),
    ],
)
def test_bad_filters_are_refused(app, kwargs, code):
    with pytest.raises(Invalid) as caught:
        _list(app, "analyst", **kwargs)
    assert caught.value.code == code


def _add(app, username, data=LINK):
    headers = {"Accept-Language": "en"}
    with request_as(app, username, headers=headers), get_db().session() as s, s.begin():
        return reports.add_external_report(s, _user(s, username), data, "en")


def test_links_are_added_by_report_admins_and_changed_by_their_owner_or_an_admin(app):
    before = _count(app)
    with pytest.raises(Forbidden) as caught:
        _add(app, "bj_cm")
    assert caught.value.code == "not_report_admin" and _count(app) == before
    entry = _add(app, "analyst")
    assert entry["owner"] == "陈静" and entry["can_edit"] and entry["category"] == "regulatory"
    assert _count(app) == before + 1
    seen = {r["id"]: r for r in _list(app, "bj_cm")["reports"]}
    assert entry["id"] in seen and not seen[entry["id"]]["can_edit"]  # open to all, not editable
    with request_as(app, "leader"):
        with get_db().session() as s, s.begin(), pytest.raises(Forbidden) as caught:
            reports.update_external_report(s, _user(s, "leader"), entry["id"], {"platform": "x"})
        assert caught.value.code == "not_report_owner"
    headers = {"Accept-Language": "en"}
    with request_as(app, "analyst", headers=headers), get_db().session() as s, s.begin():
        changed = reports.update_external_report(
            s, _user(s, "analyst"), entry["id"], {"title_en": "Interbank", "category": "risk"}, "en"
        )
    assert changed["title"] == "Interbank" and changed["category"] == "risk"
    assert changed["platform"] == "监管报表平台"  # fields not sent stay
    with request_as(app, "admin"), get_db().session() as s, s.begin():
        reports.delete_external_report(s, _user(s, "admin"), entry["id"])
    assert _count(app) == before


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({**LINK, "url": "javascript:alert(1)"}, "bad_url"),
        ({**LINK, "url": "ftp://files.example/x"}, "bad_url"),
        ({**LINK, "url": "https://"}, "bad_url"),
        ({**LINK, "url": ""}, "missing_value"),
        ({**LINK, "category": "secret"}, "bad_category"),
        ({**LINK, "title_zh": "", "title_en": None}, "missing_title"),
        ({**LINK, "platform": "p" * 101}, "bad_value"),
        ({**LINK, "platform": ""}, "missing_value"),
        ({**LINK, "owner_id": 1}, "unknown_key"),
        ("not a dict", "invalid_json"),
    ],
)
def test_bad_links_are_refused_and_nothing_is_stored(app, data, code):
    before = _count(app)
    with pytest.raises(Invalid) as caught:
        _add(app, "analyst", data)
    assert caught.value.code == code and caught.value.message
    assert _count(app) == before


def test_pivots_are_not_edited_through_the_registry(app):
    with request_as(app, "admin"), get_db().session() as s, s.begin():
        pivot = s.scalar(select(Resource).where(Resource.key == "demo-risk-loan-grade"))
        with pytest.raises(Invalid):
            reports.update_external_report(s, _user(s, "admin"), pivot.id, {"platform": "x"})
        with pytest.raises(NotFound):
            reports.delete_external_report(s, _user(s, "admin"), 10**9)
        with pytest.raises(Forbidden):
            reports.get_report(s, _user(s, "admin"), pivot.id)


def test_common_reports_put_favorites_then_most_used_then_popular(app):
    now = utcnow()
    with app.app_context(), get_db().session() as s, s.begin():
        ids = {
            r.key: r.id
            for r in s.scalars(select(Resource).where(Resource.type.in_(["pivot", "report"])))
        }
        analyst, leader = _user(s, "analyst"), _user(s, "leader")
        for minutes in (1, 5, 9):
            s.add(
                View(
                    user_id=analyst.id,
                    resource_id=ids["demo-ebank-channel-month"],
                    at=now - timedelta(minutes=minutes),
                )
            )
        s.add(
            View(
                user_id=analyst.id, resource_id=ids["demo-1104-g01"], at=now - timedelta(minutes=2)
            )
        )
        s.add(
            View(
                user_id=analyst.id, resource_id=ids["demo-card-risk"], at=now - timedelta(days=200)
            )
        )
        for minutes in range(4):
            s.add(
                View(
                    user_id=leader.id,
                    resource_id=ids["demo-cockpit-monthly"],
                    at=now - timedelta(minutes=minutes),
                )
            )
        s.add(Favorite(user_id=analyst.id, resource_id=ids["demo-risk-npl-branch"]))
    with request_as(app, "analyst"), get_db().session() as s:
        common = reports.common_reports(s, _user(s, "analyst"), limit=4, locale="en")
    assert [c["key"] for c in common] == [
        "demo-risk-npl-branch",  # favorite
        "demo-ebank-channel-month",  # opened three times
        "demo-1104-g01",  # opened once
        "demo-cockpit-monthly",  # popular with others
    ]
    first = common[0]
    assert set(first) >= {"id", "type", "key", "title", "url", "category", "owner", "views"}
    assert first["favorite"] and first["title"] == "Non-performing loans and NPL ratio by branch"
    assert common[1]["views"] == 3 and common[3]["views"] == 0
    with request_as(app, "admin"), get_db().session() as s:
        admin = reports.common_reports(s, _user(s, "admin"), limit=20)
    assert admin and all(c["type"] == "report" for c in admin)
    with request_as(app, "admin"), get_db().session() as s:
        assert reports.common_reports(s, _user(s, "admin"), limit=0) == []


# -- the /reports page's callbacks, called as functions -------------------------------------------
def test_reports_page_lists_groups_and_manages_links(app):
    page = sys.modules["pages.reports"]
    with request_as(app, "analyst", headers={"Accept-Language": "zh-CN"}):
        texts = texts_in(page.layout())
        assert "报表" in texts and "添加报表链接" in texts
        listing, count = cb.render("1104", "all", "all", 0)
        assert count == "共 2 张报表" and "监管报送" in texts_in(listing)
        assert "1104 报表 G01 资产负债项目统计表" in texts_in(listing)
        bad = {**LINK, "url": "javascript:alert(1)"}
        before = _count(app)
        is_open, refresh, problem, done = cb.save_link(1, *bad.values(), None, None, 3)
        assert "http://" in " ".join(texts_in(problem)) and refresh is dash.no_update
        assert _count(app) == before
        is_open, refresh, problem, done = cb.save_link(1, *LINK.values(), None, None, 3)
        assert is_open is False and refresh == 4 and problem is None and _count(app) == before + 1
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        assert "Add report link" not in texts_in(page.layout())
        listing, _count_text = cb.render(None, "report", "regulatory", 0)
        assert "Interbank regulatory ratios" in texts_in(listing)
        with app.app_context(), get_db().session() as s:
            link = s.scalar(select(Resource).where(Resource.title_en == LINK["title_en"]))
        with patch.object(cb, "ctx") as fake:
            fake.triggered_id = {"type": cb.DELETE, "id": link.id}
            refresh, alert = cb.delete_link([1], 0)
        assert "administrator" in " ".join(texts_in(alert)) and _count(app) == before + 1
        empty, _ = cb.render("no such report", "all", "all", 0)
        assert "No reports match these filters." in texts_in(empty)
