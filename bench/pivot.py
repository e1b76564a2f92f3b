"""Benchmark the pivot service (SPEC §8): branch x channel sum of amount over every transaction.

`bench_pivot(path, repeat)` times, on one warehouse file and with the query cache off:

- the end-to-end `PivotService.pivot` call (parse, Ibis query with subtotals and grand total,
  one warehouse round trip, JSON-ready shaping) — reading the monthly rollup
  `agg_transaction_monthly` when the warehouse has it and the schema lists it, and then
  also once more forced onto the fact table (`service_facts`);
- the same GROUP BY written by hand and run directly in DuckDB (and, for reference, a
  hand-tuned variant that aggregates the fact table before joining the branch mapping);
- pandas `pivot_table` on the same rows already loaded in memory, with margins (the same
  totals the service returns) and without.

It checks that all of them agree before timing, and returns the medians in seconds.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

BRANCH_MAP = """(SELECT b.branch_id,
        CASE WHEN b.level = 'sub_branch' THEN p.branch_id ELSE b.branch_id END AS branch,
        CASE WHEN b.level = 'sub_branch' THEN p.branch_name ELSE b.branch_name END AS label
    FROM dim_branch b LEFT JOIN dim_branch p ON b.parent_id = p.branch_id)"""
DIRECT_SQL = f"""
SELECT o.branch, o.label, t.channel, SUM(t.amount) AS amount
FROM fact_transaction t LEFT JOIN {BRANCH_MAP} o ON t.branch_id = o.branch_id
GROUP BY 1, 2, 3
"""
PREAGGREGATED_SQL = f"""
WITH g AS (SELECT branch_id, channel, SUM(amount) AS amount FROM fact_transaction GROUP BY 1, 2)
SELECT o.branch, o.label, g.channel, SUM(g.amount) AS amount
FROM g LEFT JOIN {BRANCH_MAP} o ON g.branch_id = o.branch_id
GROUP BY 1, 2, 3
"""
ROWS_SQL = f"""
SELECT o.branch, t.channel, t.amount
FROM fact_transaction t LEFT JOIN {BRANCH_MAP} o ON t.branch_id = o.branch_id
"""
SPEC = {
    "dataset": "fact_transaction",
    "rows": ["branch"],
    "columns": ["channel"],
    "values": [{"field": "amount", "agg": "sum"}],
}


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _FactsOnly:
    """Full access without the rollups: the service reads the fact table."""

    scope_key = "all:facts-only"

    def __init__(self, warehouse):
        from datasources.relations import FullAccess

        self.inner = FullAccess(warehouse)

    def table(self, name: str):
        from datasources.pivot_rollup import ROLLUP_TABLES

        if name in ROLLUP_TABLES:
            raise KeyError(name)
        return self.inner.table(name)


def bench_pivot(path: Path, repeat: int) -> dict:
    """Time the pivot service against DuckDB directly and pandas; return medians in seconds.

    Keys: rows, rollup (the summary table the service read, or None), service,
    service_facts (the service on the fact table), duckdb, duckdb_preaggregated, pandas
    (pivot_table with margins, the service's totals), pandas_no_margins.
    """
    import duckdb
    import pandas as pd

    from datasources.catalog import load_catalog
    from datasources.pivot_rollup import ROLLUP_TABLES
    from datasources.relations import FullAccess
    from datasources.warehouse import Warehouse
    from portal.services.pivot import PivotService

    warehouse = Warehouse(f"duckdb://{path}", cache=None)
    service = PivotService(warehouse, load_catalog())
    tables = FullAccess(warehouse)
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT COUNT(*) FROM fact_transaction").fetchone()[0]
    frame = con.execute(ROWS_SQL).df()

    def service_call():  # outside a request, messages stay in English
        return service.pivot(tables, SPEC, locale="zh_CN")

    facts_only = _FactsOnly(warehouse)

    def service_facts():
        return service.pivot(facts_only, SPEC, locale="zh_CN")

    def direct():
        return con.execute(DIRECT_SQL).fetchall()

    def preaggregated():
        return con.execute(PREAGGREGATED_SQL).fetchall()

    def pandas_margins():
        return pd.pivot_table(
            frame, index="branch", columns="channel", values="amount", aggfunc="sum", margins=True
        )

    def pandas_plain():
        return pd.pivot_table(
            frame, index="branch", columns="channel", values="amount", aggfunc="sum"
        )

    # Check that they agree before timing them.
    result = service_call()
    sql = warehouse.recent[-1].sql
    rollup = next((name for name in ROLLUP_TABLES if f'"{name}"' in sql), None)
    total_direct = sum(r[3] for r in direct())
    total_pandas = float(pandas_margins().loc["All", "All"])
    total_service = result["grand_total"]["v0_total"]
    total_facts = service_facts()["grand_total"]["v0_total"]
    for other in (total_direct, total_pandas, sum(r[3] for r in preaggregated()), total_facts):
        assert abs(total_service - other) <= 1e-6 * abs(other), (total_service, other)
    leaves = [r for r in result["data"] if r["_level"] == 0]
    assert len(leaves) == len({r[0] for r in direct()}) and not result["truncated"]

    timed = {
        "service": service_call,
        "service_facts": service_facts,
        "duckdb": direct,
        "duckdb_preaggregated": preaggregated,
        "pandas": pandas_margins,
        "pandas_no_margins": pandas_plain,
    }
    for fn in timed.values():  # warm up
        fn()
    out = {"rows": rows, "rollup": rollup}
    out.update({name: _median_seconds(fn, repeat) for name, fn in timed.items()})
    con.close()
    warehouse.close()
    return out


def main() -> None:
    """Run on a warehouse file given on the command line and print the medians."""
    import sys

    path = Path(sys.argv[1])
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    r = bench_pivot(path, repeat)
    print(f"fact_transaction rows: {r['rows']:,}; rollup read: {r['rollup'] or 'none'}")
    names = ("service", "service_facts", "duckdb", "duckdb_preaggregated")
    for name in (*names, "pandas", "pandas_no_margins"):
        print(f"{name:<22} {r[name] * 1000:9.1f} ms")
    for name in ("service", "service_facts"):
        print(
            f"{name}: {r[name] / r['duckdb']:.2f}x the DuckDB GROUP BY (target <= 1.5x), "
            f"{r['pandas'] / r[name]:.1f}x faster than pandas with margins, "
            f"{r['pandas_no_margins'] / r[name]:.1f}x without (target >= 10x)"
        )


if __name__ == "__main__":
    main()
