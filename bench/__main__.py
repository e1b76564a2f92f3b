"""Benchmarks for SPEC §8, measured side by side in one run: `make bench` (python -m bench).

1. Warehouse generation time per scale.
2. The portal's grouped-aggregation service call (the metric service, cache off) on a
   warehouse of at least 10 million transactions, against the same GROUP BY run directly in
   DuckDB, and against pandas `pivot_table` on the same rows already loaded in memory.
3. The pivot service on the same warehouse (bench/pivot.py), a 12-chart dashboard
   (bench/dashboard.py), every home widget warm and cold on scale 1 (bench/home.py) and
   unified search over 10,000 resources on SQLite and PostgreSQL (bench/search.py).

Prints medians and the ratios; copy the table into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_ROWS = 10_000_000


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _generate(path: Path, scale: float, seed: int) -> float:
    from datasources.generator import generate_warehouse

    start = time.perf_counter()
    generate_warehouse(path, scale=scale, seed=seed, progress=False)
    return time.perf_counter() - start


def _transaction_rows(path: Path) -> int:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT COUNT(*) FROM fact_transaction").fetchone()[0]


def _is_current(path: Path) -> bool:
    """Return whether a cached warehouse has every table of today's schema (rollups too)."""
    import duckdb

    from datasources.schema import TABLES

    with duckdb.connect(str(path), read_only=True) as con:
        present = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    return set(TABLES) <= present


def bench_generation(
    out_dir: Path, scales: list[float], seed: int
) -> list[tuple[float, float, int]]:
    rows = []
    for scale in scales:
        path = out_dir / f"gen-{scale:g}.duckdb"
        seconds = _generate(path, scale, seed)
        rows.append((scale, seconds, _transaction_rows(path)))
        print(
            f"  generate scale {scale:<5g} {seconds:7.2f} s   {rows[-1][2]:>12,} transactions",
            flush=True,
        )
        path.unlink(missing_ok=True)
    return rows


def big_warehouse(out_dir: Path, seed: int) -> Path:
    """Return a warehouse with at least 10 M transactions, generating it once."""
    path = out_dir / "bench-10m.duckdb"
    if path.exists() and _is_current(path) and _transaction_rows(path) >= TARGET_ROWS:
        return path
    probe = out_dir / "probe.duckdb"
    _generate(probe, 0.1, seed)
    per_scale = _transaction_rows(probe) / 0.1
    probe.unlink()
    scale = round(TARGET_ROWS / per_scale * 1.05 + 0.05, 1)
    print(
        f"  generating a scale-{scale:g} warehouse for >= {TARGET_ROWS:,} transactions ...",
        flush=True,
    )
    seconds = _generate(path, scale, seed)
    print(f"  ... {seconds:.1f} s, {_transaction_rows(path):,} transactions", flush=True)
    return path


# What a DBA would write for the same answer: the branch mapping as a subquery, joined once.
DIRECT_SQL = """
WITH org AS (
    SELECT b.branch_id,
           CASE WHEN b.level = 'sub_branch' THEN p.branch_id ELSE b.branch_id END AS code,
           CASE WHEN b.level = 'sub_branch' THEN p.branch_name ELSE b.branch_name END AS label
    FROM dim_branch b LEFT JOIN dim_branch p ON b.parent_id = p.branch_id)
SELECT o.code, o.label, t.channel,
       CASE WHEN t.txn_date >= DATE '{start}' THEN 'current' ELSE 'previous' END AS bucket,
       SUM(t.amount) AS value
FROM fact_transaction t LEFT JOIN org o ON t.branch_id = o.branch_id
WHERE t.txn_date BETWEEN DATE '{prev_start}' AND DATE '{end}'
GROUP BY 1, 2, 3, 4
"""


def bench_aggregation(path: Path, repeat: int) -> dict:
    import duckdb
    import pandas as pd

    from datasources.catalog import load_catalog
    from datasources.periods import resolve_period
    from datasources.relations import FullAccess
    from datasources.warehouse import Warehouse
    from portal.services.metrics import MetricService

    warehouse = Warehouse(f"duckdb://{path}", cache=None)
    service = MetricService(warehouse, load_catalog())
    tables = FullAccess(warehouse)
    period = resolve_period("last_12_months", service.as_of(tables))
    rows = _transaction_rows(path)

    def service_call():
        return service.query(
            tables, "transaction_amount", by=["branch", "channel"], period="last_12_months"
        )

    con = duckdb.connect(str(path), read_only=True)
    sql = DIRECT_SQL.format(start=period.start, prev_start=period.previous_start, end=period.end)

    def direct():
        return con.execute(sql).fetchall()

    # Same rows for pandas: the period's transactions with their branch, loaded once.
    frame = con.execute(f"""
        SELECT COALESCE(p.branch_id, b.branch_id) AS branch, t.channel, t.amount,
               t.txn_date >= DATE '{period.start}' AS is_current
        FROM fact_transaction t LEFT JOIN dim_branch b ON t.branch_id = b.branch_id
        LEFT JOIN dim_branch p ON b.parent_id = p.branch_id AND b.level = 'sub_branch'
        WHERE t.txn_date BETWEEN DATE '{period.previous_start}' AND DATE '{period.end}'""").df()

    def pandas_pivot():
        return pd.pivot_table(
            frame, index=["branch", "is_current"], columns="channel", values="amount", aggfunc="sum"
        )

    # Check that the three agree before timing them.
    result = service_call()
    total_service = sum(r["value"] or 0 for r in result["rows"])
    total_direct = sum(v for *_k, b, v in direct() if b == "current")
    total_pandas = pandas_pivot().xs(True, level="is_current").to_numpy().sum()
    assert abs(total_service - total_direct) <= 1e-6 * abs(total_direct), (
        total_service,
        total_direct,
    )
    assert abs(total_service - total_pandas) <= 1e-6 * abs(total_direct), (
        total_service,
        total_pandas,
    )

    for fn in (service_call, direct, pandas_pivot):  # warm up
        fn()
    service_s = _median_seconds(service_call, repeat)
    direct_s = _median_seconds(direct, repeat)
    pandas_s = _median_seconds(pandas_pivot, repeat)
    con.close()
    warehouse.close()
    return {
        "rows": rows,
        "period_rows": len(frame),
        "service": service_s,
        "duckdb": direct_s,
        "pandas": pandas_s,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(os.environ.get("PORTAL_DATA_DIR", ROOT / "data")) / "bench"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scales", default="0.01,0.1,1", help="generation scales to time")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--skip-generation", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    gen = []
    if not args.skip_generation:
        print("warehouse generation (SPEC §8: scale 1 <= 60 s):")
        gen = bench_generation(args.out, [float(s) for s in args.scales.split(",")], args.seed)
    print(
        "grouped aggregation (transaction amount by branch x channel, last 12 months + previous):"
    )
    path = big_warehouse(args.out, args.seed)
    r = bench_aggregation(path, args.repeat)
    from bench.pivot import bench_pivot

    print("pivot (SPEC §8: amount by branch x channel over all transactions):")
    p = bench_pivot(path, args.repeat)
    from bench.dashboard import bench_dashboard, print_table

    print("self-service dashboard (12 charts, every chart callback's server time):")
    dash_result = bench_dashboard(path, args.repeat)
    from bench.home import bench_home, scale1_warehouse
    from bench.home import report as home_report

    print("home page widgets (SPEC §8, scale 1: warm p95 <= 50 ms, cold <= 500 ms):")
    home = bench_home(scale1_warehouse(args.out, args.seed), max(args.repeat, 9))
    home_lines, home_ok = home_report(home)
    from bench.search import bench_backends
    from bench.search import report as search_report

    print("unified search (SPEC §8: 10,000 resources, p95 <= 50 ms):")
    search_lines, search_ok = search_report(bench_backends())
    print()
    print("| what | median | ratio |")
    print("|---|---|---|")
    print(f"| fact_transaction rows | {r['rows']:,} (period: {r['period_rows']:,}) | |")
    print(
        f"| portal service call (cache off) | {r['service'] * 1000:.0f} ms | "
        f"{r['service'] / r['duckdb']:.2f}x DuckDB (target <= 1.5x) |"
    )
    print(f"| same GROUP BY in DuckDB directly | {r['duckdb'] * 1000:.0f} ms | 1.00x |")
    print(
        f"| pandas pivot_table, rows in memory | {r['pandas'] * 1000:.0f} ms | "
        f"service is {r['pandas'] / r['service']:.1f}x faster (target >= 10x) |"
    )
    print(
        f"| pivot service (cache off; reads the monthly rollup) | {p['service'] * 1000:.0f} ms | "
        f"{p['service'] / p['duckdb']:.2f}x DuckDB (target <= 1.5x); "
        f"{p['pandas'] / p['service']:.1f}x faster than pandas (target >= 10x) |"
    )
    print(
        f"| pivot service reading the facts (no rollup) | {p['service_facts'] * 1000:.0f} ms | "
        f"{p['service_facts'] / p['duckdb']:.2f}x DuckDB; {p['pandas'] / p['service_facts']:.1f}x pandas |"
    )
    print(f"| same pivot GROUP BY in DuckDB on the facts | {p['duckdb'] * 1000:.0f} ms | 1.00x |")
    print(f"| pandas pivot_table with totals (margins) | {p['pandas'] * 1000:.0f} ms | |")
    print(
        f"| pandas pivot_table without totals | {p['pandas_no_margins'] * 1000:.0f} ms | "
        f"service {p['pandas_no_margins'] / p['service']:.1f}x faster |"
    )
    print_table(dash_result)
    print("\n".join(["", *home_lines]))
    print("\n".join(search_lines))
    for scale, seconds, txns in gen:
        print(f"| generate scale {scale:g} ({txns:,} transactions) | {seconds:.1f} s | |")
    ok = p["service"] / p["duckdb"] <= 1.5 and p["pandas_no_margins"] / p["service"] >= 10
    ok = ok and all(s <= 60 for scale, s, _ in gen if scale <= 1)
    ok = ok and home_ok and search_ok
    print()
    print("SPEC §8 targets:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
