"""Metric values from the catalog equal hand-written SQL on the scale-0.01 warehouse."""

from __future__ import annotations

import pytest

from datasources.catalog import load_catalog
from datasources.relations import FullAccess
from datasources.warehouse import Warehouse
from portal.errors import Invalid, NotFound
from portal.services.metrics import MetricService

NOV, OCT, SEP = "DATE '2026-11-30'", "DATE '2026-10-31'", "DATE '2026-09-30'"
BRANCH_OF = """(SELECT s.branch_id AS sub_id, COALESCE(p.branch_id, s.branch_id) AS code
               FROM dim_branch s LEFT JOIN dim_branch p
               ON s.parent_id = p.branch_id AND s.level = 'sub_branch')"""


@pytest.fixture(scope="module")
def service(warehouse_url):
    wh = Warehouse(warehouse_url)
    yield MetricService(wh, load_catalog())
    wh.close()


@pytest.fixture(scope="module")
def tables(service):
    return FullAccess(service.warehouse)


def scalar(duck, sql):
    return duck.execute(sql).fetchone()[0]


def by_key(rows, key):
    return {r[key]: r for r in rows}


def test_data_date_is_the_last_month_end(service, tables):
    assert service.as_of(tables).isoformat() == "2026-11-30"


def test_deposit_balance_this_month_and_change(service, tables, duck):
    sql = """SELECT SUM(end_balance) FROM fact_balance_monthly f JOIN dim_product p USING (product_id)
             WHERE p.category = 'deposit' AND f.month_end = {d}"""
    result = service.query(tables, "deposit_balance", period="this_month")
    row = result["rows"][0]
    assert row["value"] == pytest.approx(scalar(duck, sql.format(d=NOV)), rel=1e-9)
    assert row["previous"] == pytest.approx(scalar(duck, sql.format(d=OCT)), rel=1e-9)
    assert row["change"] == pytest.approx(row["value"] - row["previous"])
    assert result["period"]["start"] == "2026-11-01"


def test_deposit_balance_by_branch_with_labels(service, tables, duck):
    expected = dict(
        duck.execute(f"""
        SELECT b.code, SUM(end_balance) FROM fact_balance_monthly f
        JOIN dim_product p USING (product_id) JOIN {BRANCH_OF} b ON b.sub_id = f.branch_id
        WHERE p.category = 'deposit' AND f.month_end = {NOV} GROUP BY 1""").fetchall()
    )
    rows = service.query(tables, "deposit_balance", by=["branch"], locale="zh_CN")["rows"]
    got = {r["branch"]: r["value"] for r in rows}
    assert got.keys() == expected.keys() and len(got) == 12
    for code, value in expected.items():
        assert got[code] == pytest.approx(value, rel=1e-9)
    assert by_key(rows, "branch")["BJ"]["branch_label"] == "北京分行"
    en = service.query(tables, "deposit_balance", by=["branch"], locale="en")["rows"]
    assert by_key(en, "branch")["BJ"]["branch_label"] == "Beijing Branch"


def test_npl_ratio_by_branch_last_month(service, tables, duck):
    expected = dict(
        duck.execute(f"""
        SELECT b.code, SUM(balance) FILTER (WHERE grade IN ('次级','可疑','损失')) / SUM(balance)
        FROM fact_loan f JOIN {BRANCH_OF} b ON b.sub_id = f.branch_id
        WHERE f.month_end = {OCT} GROUP BY 1""").fetchall()
    )
    rows = service.query(tables, "npl_ratio", by=["branch"], period="last_month")["rows"]
    got = {r["branch"]: r["value"] for r in rows}
    for code, value in expected.items():
        assert got[code] == pytest.approx(value or 0, rel=1e-9, abs=1e-12)
    total = service.query(tables, "npl_ratio", period="last_month")["rows"][0]["value"]
    assert 0.003 < total < 0.05


def test_new_loans_flow_over_last_month(service, tables, duck):
    value = scalar(
        duck,
        f"""SELECT SUM(contract_amount) FROM fact_loan WHERE month_end = {OCT}
        AND date_trunc('month', start_date) = DATE '2026-10-01'""",
    )
    row = service.query(tables, "new_loans", period="last_month")["rows"][0]
    assert value and row["value"] == pytest.approx(value, rel=1e-9)


def test_active_customers_year_to_date(service, tables, duck):
    value = scalar(
        duck,
        """SELECT COUNT(DISTINCT customer_id) FROM fact_transaction
                            WHERE txn_date BETWEEN DATE '2026-01-01' AND DATE '2026-11-30'""",
    )
    assert service.query(tables, "active_customers", period="ytd")["rows"][0]["value"] == value


def test_filters_segment_and_month(service, tables, duck):
    value = scalar(
        duck,
        f"""SELECT SUM(end_balance) FROM fact_balance_monthly f
        JOIN dim_product p USING (product_id) JOIN dim_customer c USING (customer_id)
        WHERE p.category = 'deposit' AND c.segment IN ('affluent', 'private') AND month_end = {SEP}""",
    )
    result = service.query(
        tables,
        "deposit_balance",
        filters=[{"field": "segment", "op": "in", "value": ["affluent", "private"]}],
        period={"start": "2026-09-01", "end": "2026-09-30"},
    )
    assert result["rows"][0]["value"] == pytest.approx(value, rel=1e-9)


def test_ebank_penetration_by_month_is_a_ratio_of_two_metrics(service, tables, duck):
    rows = service.query(tables, "ebank_penetration", by=["month"], period="last_quarter")["rows"]
    assert [r["month"] for r in rows] == ["2026-07", "2026-08", "2026-09"]
    for r in rows:
        end = f"last_day(DATE '{r['month']}-01')"
        active = scalar(
            duck,
            f"""SELECT COUNT(DISTINCT customer_id) FROM fact_channel_usage
            WHERE month_end = {end} AND channel IN ('mobile','online') AND logins > 0""",
        )
        customers = scalar(
            duck,
            f"""SELECT COUNT(DISTINCT customer_id) FROM fact_balance_monthly
            WHERE month_end = {end} AND end_balance > 0""",
        )
        assert r["value"] == pytest.approx(active / customers, rel=1e-9)
    # With the month dimension, "previous" is the month before in the series.
    assert rows[1]["previous"] == pytest.approx(rows[0]["value"])


def test_budget_attainment_by_branch(service, tables, duck):
    rows = by_key(service.query(tables, "budget_attainment", by=["branch"])["rows"], "branch")
    bj_dep = scalar(
        duck,
        f"""SELECT SUM(end_balance) FROM fact_balance_monthly f JOIN dim_product p
        USING (product_id) WHERE p.category='deposit' AND month_end={NOV} AND f.branch_id LIKE 'BJ-%'""",
    )
    bj_budget = scalar(
        duck,
        f"""SELECT SUM(target) FROM fact_budget WHERE item='deposit_balance'
        AND month_end={NOV} AND branch_id='BJ'""",
    )
    assert rows["BJ"]["value"] == pytest.approx(bj_dep / bj_budget, rel=1e-9)
    assert all(0.5 < r["value"] < 1.5 for r in rows.values())


def test_churn_rate_matches_the_windowed_definition(service, tables, duck):
    counts = duck.execute("""
        WITH dep AS (
            SELECT customer_id, month_end, SUM(end_balance) AS total FROM fact_balance_monthly
            JOIN dim_product USING (product_id) WHERE category = 'deposit' GROUP BY 1, 2),
        lagged AS (
            SELECT *, COALESCE(LAG(total, 3) OVER w, 0) AS before FROM dep
            WINDOW w AS (PARTITION BY customer_id ORDER BY month_end)),
        flagged AS (
            SELECT *, before >= 1000 AND total < before * 0.2 AS below, before >= 1000 AS base FROM lagged),
        marked AS (
            SELECT *, below AND NOT COALESCE(LAG(below) OVER w, FALSE) AS churned FROM flagged
            WINDOW w AS (PARTITION BY customer_id ORDER BY month_end))
        SELECT COUNT(DISTINCT customer_id) FILTER (WHERE churned),
               COUNT(DISTINCT customer_id) FILTER (WHERE base)
        FROM marked WHERE month_end BETWEEN DATE '2026-10-01' AND DATE '2026-11-30'""").fetchone()
    row = service.query(tables, "churn_rate", period="this_quarter")["rows"][0]
    assert counts[0] > 0
    assert row["value"] == pytest.approx(counts[0] / counts[1], rel=1e-9)


def test_trend_returns_twelve_months(service, tables):
    trend = service.trend(tables, "loan_balance")
    months = [r["month"] for r in trend["rows"]]
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    assert all(r["value"] > 0 for r in trend["rows"])


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"metric_id": "nope"}, NotFound, "unknown_metric"),
        ({"metric_id": "loan_balance", "by": ["channel"]}, Invalid, "bad_dimension"),
        ({"metric_id": "loan_balance", "by": ["branch", "branch"]}, Invalid, "bad_dimension"),
        (
            {"metric_id": "loan_balance", "by": "branch; DROP TABLE fact_loan"},
            Invalid,
            "bad_dimension",
        ),
        ({"metric_id": "loan_balance", "period": "someday"}, Invalid, "invalid_period"),
        (
            {
                "metric_id": "loan_balance",
                "filters": [{"field": "grade", "op": "like", "value": "x"}],
            },
            Invalid,
            "bad_filter_op",
        ),
        (
            {
                "metric_id": "loan_balance",
                "filters": [{"field": "txn_type", "op": "eq", "value": "x"}],
            },
            Invalid,
            "bad_filter_field",
        ),
        (
            {
                "metric_id": "loan_balance",
                "filters": [{"field": "grade", "op": "in", "value": "x"}],
            },
            Invalid,
            "bad_filter_value",
        ),
        ({"metric_id": "loan_balance", "filters": ["grade = 1"]}, Invalid, "bad_filter"),
    ],
)
def test_bad_requests_raise_domain_errors(service, tables, kwargs, error, code):
    metric_id = kwargs.pop("metric_id")
    with pytest.raises(error) as info:
        service.query(tables, metric_id, **kwargs)
    assert info.value.code == code


def test_injection_in_a_filter_value_is_just_a_value(service, tables, duck):
    before = scalar(duck, "SELECT COUNT(*) FROM fact_loan")
    result = service.query(
        tables,
        "loan_balance",
        filters=[{"field": "grade", "op": "eq", "value": "正常'; DROP TABLE fact_loan; --"}],
    )
    assert result["rows"][0]["value"] is None
    assert scalar(duck, "SELECT COUNT(*) FROM fact_loan") == before


def test_month_breakdown_with_a_month_filter_keeps_every_remaining_month(service, tables):
    rows = service.query(
        tables,
        "loan_balance",
        by=["month"],
        filters=[{"field": "month", "op": "gte", "value": "2026-09"}],
        period={"start": "2026-06-01", "end": "2026-11-30"},
    )["rows"]
    assert [r["month"] for r in rows] == ["2026-09", "2026-10", "2026-11"]
    assert rows[0]["previous"] is None and rows[1]["previous"] == pytest.approx(rows[0]["value"])
