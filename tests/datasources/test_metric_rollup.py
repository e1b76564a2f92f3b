"""Catalog metrics read from the monthly rollups give exactly what the facts give."""

from __future__ import annotations

from dataclasses import replace

import pytest

from datasources.catalog import load_catalog
from datasources.metric_query import MONTH, _two_stage_plan, normalise_filters
from datasources.metric_rollup import month_aligned
from datasources.periods import resolve_period
from datasources.relations import FullAccess
from datasources.scope import Principal, ScopedTables
from datasources.warehouse import Warehouse
from portal.services.metrics import MetricService

CATALOG = load_catalog()
FORMULA = [m for m in CATALOG.metrics.values() if not m.is_ratio]
ALL = list(CATALOG.metrics.values())
# Metrics whose plain queries a rollup answers (the KPI-card ones above all).
ROUTED = {
    "deposit_balance",
    "time_deposit_balance",
    "deposit_daily_average",
    "wealth_balance",
    "loan_balance",
    "npl_balance",
    "npl_ratio",
    "payroll_amount",
    "transaction_amount",
    "transaction_count",
    "net_inflow",
}


@pytest.fixture(scope="module")
def services(warehouse_url):
    wh = Warehouse(warehouse_url, cache=None)
    catalog = load_catalog()
    yield MetricService(wh, catalog), MetricService(wh, catalog, use_rollups=False)
    wh.close()


def _cases(metric):
    dims = [d for d in ("branch", "channel", "grade", "product", "month") if d in metric.dimensions]
    yield {"period": "this_month"}
    yield {"period": "ytd", "by": dims[:1]}
    yield {"period": "last_quarter", "by": dims[:2]}
    yield {"period": "last_12_months", "by": ["region"]}
    yield {"period": {"start": "2026-03-01", "end": "2026-08-31"}, "by": ["branch"]}
    yield {"period": {"start": "2026-03-10", "end": "2026-08-20"}}  # not whole months
    yield {"period": "this_month", "filters": [{"field": "branch", "op": "in", "value": ["BJ"]}]}
    if "channel" in metric.dimensions:
        yield {
            "period": "last_month",
            "by": ["branch"],
            "filters": [{"field": "channel", "op": "eq", "value": "mobile"}],
        }
    if "month" in metric.dimensions:
        yield {"period": "last_12_months", "by": ["month"]}
        yield {
            "period": "last_12_months",
            "by": ["month", "branch"],
            "filters": [{"field": "month", "op": "gte", "value": "2026-06"}],
        }


def _key(row):
    return tuple(sorted((k, str(v)) for k, v in row.items() if k not in NUMBERS))


NUMBERS = ("value", "previous", "change", "change_pct")


def _assert_same(a: dict, b: dict):
    assert a["period"] == b["period"] and a["by"] == b["by"]
    rows_a = {_key(r): r for r in a["rows"]}
    rows_b = {_key(r): r for r in b["rows"]}
    assert rows_a.keys() == rows_b.keys()
    for key, ra in rows_a.items():
        rb = rows_b[key]
        for name in NUMBERS:
            if rb[name] is None:
                assert ra[name] is None, (key, name)
            else:
                assert ra[name] == pytest.approx(rb[name], rel=1e-9, abs=1e-9), (key, name)


@pytest.mark.parametrize("metric", ALL, ids=[m.id for m in ALL])
def test_rollup_results_equal_fact_results(services, metric):
    fast, facts = services
    tables = FullAccess(fast.warehouse)
    for case in _cases(metric):
        case = {**case, "by": [d for d in case.get("by", []) if d in metric.dimensions]}
        _assert_same(
            fast.query(tables, metric.id, locale="en", **case),
            facts.query(tables, metric.id, locale="en", **case),
        )


@pytest.mark.parametrize("metric", FORMULA, ids=[m.id for m in FORMULA])
def test_the_metrics_that_can_read_a_rollup_do(services, metric):
    fast, _facts = services
    tables = FullAccess(fast.warehouse)
    as_of = fast.as_of(tables)
    plan = _two_stage_plan(
        tables, CATALOG, metric, [], [], resolve_period("this_month", as_of), "en"
    )
    assert (plan.choice().table is not None) == (metric.id in ROUTED), plan.choice()
    if metric.id in ROUTED:
        trend = resolve_period({"start": "2025-12-01", "end": "2026-11-30"}, as_of)
        dims = [CATALOG.dimensions[d] for d in ("branch", MONTH)]
        plan = _two_stage_plan(tables, CATALOG, metric, dims, [], trend, "en")
        assert plan.choice().table, plan.choice()


def test_a_period_inside_months_reads_the_facts_of_a_daily_table(services):
    fast, _facts = services
    tables = FullAccess(fast.warehouse)
    metric = CATALOG.metric("transaction_amount")
    period = resolve_period({"start": "2026-03-10", "end": "2026-08-20"}, fast.as_of(tables))
    assert not month_aligned(period, by_month=False)
    plan = _two_stage_plan(tables, CATALOG, metric, [], [], period, "en")
    assert plan.choice().table is None and "whole months" in plan.choice().reason
    # A snapshot fact keeps its month-end column in the rollup: any period works.
    plan = _two_stage_plan(tables, CATALOG, CATALOG.metric("loan_balance"), [], [], period, "en")
    assert plan.choice().table == "agg_loan_monthly"


def test_a_filter_on_a_column_the_rollup_lacks_reads_the_facts(services):
    fast, _facts = services
    tables = FullAccess(fast.warehouse)
    metric = CATALOG.metric("new_loans")  # filters on start_date
    period = resolve_period("this_month", fast.as_of(tables))
    plan = _two_stage_plan(tables, CATALOG, metric, [], [], period, "en")
    assert plan.choice().table is None and "start_date" in plan.choice().reason
    metric = CATALOG.metric("transaction_amount")
    flt = normalise_filters(metric, CATALOG, [{"field": "segment", "value": "mass"}])
    plan = _two_stage_plan(tables, CATALOG, metric, [], flt, period, "en")
    assert plan.choice().table is None  # a customer attribute: the facts


def test_row_scope_applies_to_the_rollups(services):
    """A Beijing customer manager's figures from the rollup equal theirs from the facts."""
    fast, facts = services
    principal = Principal(
        user_id=1, username="bj_cm", branch_id="BJ-CY", roles=frozenset({"customer_manager"})
    )
    scoped = ScopedTables(fast.warehouse, principal)
    everything = FullAccess(fast.warehouse)
    for metric_id in ("deposit_balance", "transaction_amount", "npl_ratio"):
        mine = fast.query(scoped, metric_id, by=["sub_branch"])
        _assert_same(mine, facts.query(scoped, metric_id, by=["sub_branch"]))
        assert {r["sub_branch"] for r in mine["rows"]} == {"BJ-CY"}
        whole = fast.query(everything, metric_id)["rows"][0]["value"]
        assert mine["rows"][0]["value"] < whole


@pytest.mark.parametrize("metric", ALL, ids=[m.id for m in ALL])
def test_kpi_and_this_month_equal_the_direct_query(services, metric):
    fast, _facts = services
    tables = FullAccess(fast.warehouse)
    result, trend = fast.kpi(tables, metric.id, locale="zh_CN")
    direct = fast.query(tables, metric.id, locale="zh_CN", series=False)
    _assert_same(result, direct)
    # query(this_month) reads the same monthly series, so a KPI card costs one query.
    _assert_same(fast.query(tables, metric.id, locale="zh_CN"), direct)
    bj = [{"field": "branch", "op": "eq", "value": "BJ"}]
    _assert_same(
        fast.query(tables, metric.id, filters=bj, locale="en"),
        fast.query(tables, metric.id, filters=bj, locale="en", series=False),
    )
    assert result["name"] == metric.name.zh and result["format"] == metric.format
    if "month" in metric.dimensions:
        _assert_same(trend, fast.trend(tables, metric.id, locale="zh_CN"))
        assert len(trend["rows"]) == 12
    else:
        assert trend is None


def test_a_formula_on_the_day_itself_reads_the_facts(services):
    """Only the period and month filters may stand on the month; a day formula may not."""
    fast, facts = services
    tables = FullAccess(fast.warehouse)
    metric = replace(CATALOG.metric("transaction_amount"), filter="txn_date.day() < 15")
    period = resolve_period("this_month", fast.as_of(tables))
    plan = _two_stage_plan(tables, CATALOG, metric, [], [], period, "en")
    assert plan.choice().table is None and "txn_date" in plan.choice().reason
