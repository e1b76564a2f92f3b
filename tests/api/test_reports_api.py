"""GET/POST /api/v1/reports and /reports/<id>: listing, external links, 401/403/404/422."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import get_db
from portal.models import Resource

LINK = {
    "title_zh": "流动性风险监测",
    "title_en": "Liquidity risk monitoring",
    "url": "https://regulatory.bank.example/liquidity",
    "platform": "监管报表平台",
    "category": "regulatory",
}


@pytest.fixture
def app(pivot_demo_app):
    return pivot_demo_app


def _links(app) -> int:
    with app.app_context(), get_db().session() as s:
        return s.scalar(select(func.count()).select_from(Resource).where(Resource.type == "report"))


def test_list_filter_and_search(client_as):
    analyst = client_as("analyst")
    body = analyst.get("/api/v1/reports", headers={"Accept-Language": "en"}).get_json()
    keys = {r["key"] for r in body["reports"]}
    assert {"demo-1104-g01", "demo-risk-loan-grade"} <= keys and body["can_add"] is True
    assert {c["code"] for c in body["categories"]} >= {"regulatory", "management", "risk"}
    only = analyst.get("/api/v1/reports?type=report&category=management").get_json()
    assert {r["key"] for r in only["reports"]} == {
        "demo-cockpit-monthly",
        "demo-cockpit-branch-daily",
    }
    found = analyst.get("/api/v1/reports", query_string={"q": "1104"}).get_json()
    assert len(found["reports"]) == 2
    common = analyst.get("/api/v1/reports/common?limit=3").get_json()["reports"]
    assert len(common) == 3 and {"id", "url", "views", "category"} <= set(common[0])


def test_add_change_and_delete_a_link(app, client_as):
    analyst = client_as("analyst")
    before = _links(app)
    created = analyst.post("/api/v1/reports", json=LINK, headers={"Accept-Language": "en"})
    assert created.status_code == 201, created.get_data(as_text=True)
    report = created.get_json()
    assert report["title"] == "Liquidity risk monitoring" and report["external"]
    assert _links(app) == before + 1
    one = analyst.get(f"/api/v1/reports/{report['id']}").get_json()
    assert one["url"] == LINK["url"] and one["platform"] == "监管报表平台"
    changed = analyst.patch(f"/api/v1/reports/{report['id']}", json={"platform": "管理驾驶舱"})
    assert changed.status_code == 200 and changed.get_json()["platform"] == "管理驾驶舱"
    other = client_as("leader").delete(f"/api/v1/reports/{report['id']}")
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "not_report_owner"
    assert analyst.delete(f"/api/v1/reports/{report['id']}").status_code == 204
    assert _links(app) == before
    gone = analyst.get(f"/api/v1/reports/{report['id']}")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "report_not_found"


def test_a_customer_manager_cannot_add_links(app, client_as):
    before = _links(app)
    response = client_as("bj_cm").post(
        "/api/v1/reports", json=LINK, headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "not_report_admin" and error["message"]
    assert _links(app) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/reports"),
        ("get", "/api/v1/reports/common"),
        ("post", "/api/v1/reports"),
        ("get", "/api/v1/reports/1"),
        ("patch", "/api/v1/reports/1"),
        ("delete", "/api/v1/reports/1"),
    ],
)
def test_anonymous_callers_get_401(anonymous, method, path):
    response = getattr(anonymous, method)(path, json=LINK if method != "get" else None)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code"),
    [
        ("post", "/api/v1/reports", "not json", 422, "invalid_json"),
        ("post", "/api/v1/reports", {**LINK, "url": "javascript:alert(1)"}, 422, "bad_url"),
        ("post", "/api/v1/reports", {**LINK, "category": "nope"}, 422, "bad_category"),
        ("post", "/api/v1/reports", {**LINK, "extra": 1}, 422, "unknown_key"),
        ("post", "/api/v1/reports", {**LINK, "title_zh": "", "title_en": ""}, 422, "missing_title"),
        ("get", "/api/v1/reports?type=app", None, 422, "bad_type"),
        ("get", "/api/v1/reports?category=nope", None, 422, "bad_category"),
        ("get", "/api/v1/reports/common?limit=0", None, 422, "bad_limit"),
        ("get", "/api/v1/reports/999999", None, 404, "report_not_found"),
        ("patch", "/api/v1/reports/999999", {"platform": "x"}, 404, "report_not_found"),
        ("delete", "/api/v1/reports/999999", None, 404, "report_not_found"),
    ],
)
def test_errors_are_json_and_store_nothing(app, client_as, method, path, payload, status, code):
    analyst = client_as("analyst")
    before = _links(app)
    if isinstance(payload, str):
        response = analyst.post(path, data=payload, content_type="application/json")
    else:
        response = getattr(analyst, method)(path, json=payload)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert _links(app) == before


def test_pivots_the_caller_may_not_see_are_403(app, client_as):
    with app.app_context(), get_db().session() as s:
        pivot = s.scalar(select(Resource).where(Resource.key == "demo-risk-loan-grade"))
    admin = client_as("admin")
    assert admin.get(f"/api/v1/reports/{pivot.id}").status_code == 403
    patched = admin.patch(f"/api/v1/reports/{pivot.id}", json={"platform": "x"})
    assert patched.status_code == 422 and patched.get_json()["error"]["code"] == "not_external"
    messages = {
        lang: client_as("analyst")
        .post("/api/v1/reports", json={**LINK, "url": "ftp://x"}, headers={"Accept-Language": lang})
        .get_json()["error"]["message"]
        for lang in ("en", "zh-CN")
    }
    assert messages["en"].startswith("The address must be")
    assert messages["zh-CN"] != messages["en"]
