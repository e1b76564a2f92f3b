"""Benchmark a 12-chart self-service dashboard (SPEC §4.3, §8): every chart callback's server time.

`bench_dashboard(path, repeat)` builds the portal on one warehouse file (a fresh SQLite store
with the demo users, the result cache in process), saves a 12-chart dashboard for the
head-office leader — KPI cards, bars, lines, an area by grade, a pie, a table and a branch
map over deposits, loans, NPLs, transactions, e-banking and payroll — and posts each chart's
callback exactly as the browser does (`/_dash-update-component`, logged in), timing the
server's answer:

- cold: the result cache cleared before the round, so every query runs in the warehouse;
- warm: the same callbacks again, served from the cache (`repeat` rounds).

The browser sends the 12 requests in parallel; the sum is the server work they add up to.
Run alone: `python -m bench.dashboard --warehouse data/warehouse.duckdb`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "Bench#2026-portal"
KEY = "bench-12-charts"


def _chart(chart_id, chart_type, metric, x, y, w, h, dimension=None, **extra) -> dict:
    return {
        "id": chart_id,
        "type": chart_type,
        "metric": metric,
        "dimension": dimension,
        "layout": {"x": x, "y": y, "w": w, "h": h},
        **extra,
    }


CHARTS = [
    _chart("deposits", "kpi", "deposit_balance", 0, 0, 3, 3),
    _chart("loans", "kpi", "loan_balance", 3, 0, 3, 3),
    _chart("npl", "kpi", "npl_ratio", 6, 0, 3, 3),
    _chart("ebank", "kpi", "ebank_penetration", 9, 0, 3, 3),
    _chart("dep_branch", "bar", "deposit_balance", 0, 3, 6, 5, "branch"),
    _chart("dep_trend", "line", "deposit_balance", 6, 3, 6, 5, "month", period="last_12_months"),
    _chart(
        "grades",
        "area",
        "loan_balance",
        0,
        8,
        6,
        5,
        "month",
        series_dimension="grade",
        period="last_12_months",
    ),
    _chart("channels", "pie", "transaction_amount", 6, 8, 6, 5, "channel"),
    _chart("npl_branch", "table", "npl_ratio", 0, 13, 6, 5, "branch"),
    _chart("payroll_map", "map", "payroll_customers", 6, 13, 6, 6, "branch"),
    _chart("active", "bar", "active_customers", 0, 18, 6, 5, "channel"),
    _chart("new_loans", "line", "new_loans", 6, 19, 6, 5, "month", period="last_12_months"),
]


def _payload(chart_id: str) -> dict:
    body = {"type": "dash-chart", "dashboard": KEY, "chart": chart_id}
    output = {"type": "dash-chart", "dashboard": ["MATCH"], "chart": ["MATCH"]}
    filters = [
        ("dash-filter-period", "value", ""),
        ("dash-filter-range", "start_date", None),
        ("dash-filter-range", "end_date", None),
        ("dash-filter-branch", "value", None),
        ("dash-filter-product", "value", None),
    ]
    return {
        "output": json.dumps(output, separators=(",", ":"), sort_keys=True) + ".children",
        "outputs": {"id": body, "property": "children"},
        "inputs": [{"id": body, "property": "id", "value": body}]
        + [{"id": i, "property": p, "value": v} for i, p, v in filters],
        "changedPropIds": [],
    }


def _app(path: Path, data_dir: Path):
    from app import create_app
    from portal.services.setup import init_store

    store = data_dir / "portal.sqlite"
    init_store(f"sqlite:///{store}", demo=True, demo_password=PASSWORD)
    return create_app(
        {
            "data_dir": str(data_dir),
            "warehouse_url": f"duckdb://{path}",
            "database_url": f"sqlite:///{store}",
            "secret_key": "bench-secret-key-0123456789abcdef",
            "demo_password": PASSWORD,
        }
    )


def _round(client, charts) -> list[float]:
    times = []
    for chart in charts:
        start = time.perf_counter()
        response = client.post(
            "/_dash-update-component",
            data=json.dumps(_payload(chart["id"])),
            content_type="application/json",
        )
        times.append(time.perf_counter() - start)
        text = response.get_data(as_text=True)
        if response.status_code != 200 or "dash-chart-error" in text:
            raise RuntimeError(f"chart {chart['id']} failed: {response.status_code} {text[:300]}")
    return times


def bench_dashboard(path: Path, repeat: int = 5) -> dict:
    """Time the 12 chart callbacks cold and warm; return seconds (sum, max, p95 per chart)."""
    from sqlalchemy import select

    from portal.db import get_db
    from portal.extensions import cache
    from portal.models import User
    from portal.services.dashboards import create_dashboard

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        app = _app(path, Path(tmp))
        with app.app_context(), get_db().session() as s, s.begin():
            leader = s.scalar(select(User).where(User.username == "leader"))
            create_dashboard(
                s, leader, app.extensions["metric_catalog"], "Bench", {"charts": CHARTS}, key=KEY
            )
        client = app.test_client()
        response = client.post(
            "/api/v1/auth/login", json={"username": "leader", "password": PASSWORD}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        cold_rounds, warm = [], []
        for _ in range(max(1, min(repeat, 3))):
            with app.app_context():
                cache.clear()
            cold_rounds.append(_round(client, CHARTS))
        for _ in range(repeat):
            warm.extend(_round(client, CHARTS))
        app.extensions["warehouse"].close()
    cold = [statistics.median(times) for times in zip(*cold_rounds, strict=True)]
    warm_sorted = sorted(warm)
    return {
        "charts": len(CHARTS),
        "cold_sum": sum(cold),
        "cold_max": max(cold),
        "cold_slowest": CHARTS[cold.index(max(cold))]["id"],
        "warm_sum": sum(warm) / repeat,
        "warm_max": max(warm),
        "warm_p95": warm_sorted[int(0.95 * (len(warm_sorted) - 1))],
        "warm_median": statistics.median(warm),
    }


def print_table(d: dict) -> None:
    print(
        f"| 12-chart dashboard, cold cache: sum of the {d['charts']} chart callbacks | "
        f"{d['cold_sum'] * 1000:.0f} ms | slowest chart {d['cold_max'] * 1000:.0f} ms "
        f"({d['cold_slowest']}) |"
    )
    print(
        f"| 12-chart dashboard, warm cache: sum of the chart callbacks | "
        f"{d['warm_sum'] * 1000:.0f} ms | per chart: median {d['warm_median'] * 1000:.0f} ms, "
        f"p95 {d['warm_p95'] * 1000:.0f} ms, max {d['warm_max'] * 1000:.0f} ms |"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True, help="a DuckDB warehouse file")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.INFO)
    result = bench_dashboard(args.warehouse, args.repeat)
    print("| what | time | detail |")
    print("|---|---|---|")
    print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
