"""The home page's KPI cards, by calling the layout and callbacks as functions."""

import sys

from dash import dcc, html

from callbacks.home import load_kpi
from components.formatting import format_value
from datasources.relations import FullAccess
from tests.component_tree import find_by_class, texts_in
from tests.conftest import request_as


def test_kpi_card_shows_the_service_value_change_and_sparkline(app):
    service = app.extensions["metric_service"]
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        body = load_kpi({"type": "kpi-body", "metric": "deposit_balance"})
        expected = service.query(FullAccess(app.extensions["warehouse"]), "deposit_balance")
    value = find_by_class(body, "kpi-value")
    assert value.children == format_value(expected["rows"][0]["value"], "currency", "en")
    assert value.children.startswith("¥")
    change = find_by_class(body, "kpi-change")
    assert change.className.split()[-1] in {"kpi-good", "kpi-bad", "kpi-flat"}
    graph = next(c for c in body if isinstance(c, dcc.Graph))
    assert len(graph.figure["data"][0]["x"]) == 12


def test_a_kpi_card_without_a_figure_in_scope_says_so(app):
    """Budgets are set per branch, so a sub-branch manager has no budget attainment."""
    with request_as(app, "bj_cm", headers={"Accept-Language": "zh-CN"}):
        body = load_kpi({"type": "kpi-body", "metric": "budget_attainment"})
    assert find_by_class(body, "kpi-value").children == "—"
    assert find_by_class(body, "kpi-empty").children == "本期在您的数据范围内暂无此指标数据。"
    assert find_by_class(body, "kpi-change") is None


def test_kpi_card_in_chinese_uses_wan_yi(app):
    with request_as(app, "leader", headers={"Accept-Language": "zh-CN"}):
        body = load_kpi({"type": "kpi-body", "metric": "loan_balance"})
    assert find_by_class(body, "kpi-value").children.endswith(("亿元", "万元"))


def test_a_branch_customer_manager_sees_only_their_branch(app):
    """bj_cm's card shows the BJ-CY sub-branch figure; the leader's shows the whole bank."""
    service = app.extensions["metric_service"]
    everything = FullAccess(app.extensions["warehouse"])
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        mine = find_by_class(
            load_kpi({"type": "kpi-body", "metric": "deposit_balance"}), "kpi-value"
        ).children
        own = service.query(
            everything,
            "deposit_balance",
            filters=[{"field": "sub_branch", "op": "eq", "value": "BJ-CY"}],
        )
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        bank = find_by_class(
            load_kpi({"type": "kpi-body", "metric": "deposit_balance"}), "kpi-value"
        ).children
    assert mine == format_value(own["rows"][0]["value"], "currency", "en")
    assert mine != bank


def test_the_system_administrator_sees_no_business_data(app):
    with request_as(app, "admin", headers={"Accept-Language": "en"}):
        body = load_kpi({"type": "kpi-body", "metric": "deposit_balance"})
    assert find_by_class(body, "kpi-value").children == "—"


def test_a_failing_card_shows_its_own_error(app):
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        body = load_kpi({"type": "kpi-body", "metric": "no_such_metric"})
    assert "Unknown metric: no_such_metric" in " ".join(texts_in(body))


def test_a_card_survives_a_broken_warehouse(make_app, tmp_path):
    app = make_app(warehouse_url=f"duckdb://{tmp_path / 'gone.duckdb'}")
    with request_as(app, "leader", headers={"Accept-Language": "zh-CN"}):
        body = load_kpi({"type": "kpi-body", "metric": "deposit_balance"})
    assert body and find_by_class(body, "kpi-error") is not None


def test_home_layout_lists_translated_cards(app):
    home = sys.modules["pages.home"]
    with request_as(app, "leader", headers={"Accept-Language": "zh-CN"}):
        layout = home.layout()
    texts = texts_in(layout)
    assert "数据速览" in texts and "关键指标" in texts and "快捷入口" in texts
    assert any(t.startswith(("早上好", "下午好", "晚上好")) for t in texts)
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        texts = texts_in(home.layout())
    assert "Data overview" in texts and "Key figures" in texts
    assert isinstance(layout, html.Div)


def test_index_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200 and b"_dash-config" in response.data
