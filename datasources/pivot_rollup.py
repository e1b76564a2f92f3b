"""Monthly summary tables of the large facts, and reading them instead of the facts (DWS tier).

A rollup keeps some of a fact table's columns as they are (branch, channel, product, ...), the
month of its date, a row count and, per measured column, its sum, count, minimum and maximum.
A pivot whose fields, filters and values need nothing else — the usual "amount by branch and
channel by month" — is answered from the rollup: thousands of rows instead of millions, with
the same numbers, because every pivot aggregate is recombined from those partials. Anything
else (a customer dimension, a distinct count of customers, a filter on the day) reads the
fact table. Rollups keep `branch_id`, so row-level scope applies to them as to their facts.

The generator builds them with `build_rollups(backend)` from the raw facts; `ROLLUP_TABLES`
lists their schemas for `datasources.schema.TABLES`. Until a warehouse has them, pivots
silently read the facts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

MONTH = "month"
ROW_COUNT = "row_count"
PARTIALS = ("sum", "count", "min", "max")


@dataclass(frozen=True)
class Rollup:
    table: str
    dataset: str
    keys: tuple[tuple[str, str], ...]  # (fact column, type) kept as they are
    measures: tuple[str, ...]  # float64 fact columns summarised
    date_column: str | None = None  # a daily date column kept as its month, in `month`
    month_column: str | None = None  # or a month-end date column among the keys

    @property
    def key_columns(self) -> set[str]:
        return {name for name, _type in self.keys}

    def partial(self, agg: str, column: str) -> str:
        """Return the rollup column holding `agg` ('sum', 'count', 'min', 'max') of `column`."""
        return f"{agg}_{column}"

    def schema(self) -> dict[str, str]:
        """Return the rollup's columns and their types."""
        out = dict(self.keys)
        if self.date_column:
            out[MONTH] = "date"
        out[ROW_COUNT] = "int64"
        for m in self.measures:
            out.update(
                {
                    self.partial("sum", m): "float64",
                    self.partial("count", m): "int64",
                    self.partial("min", m): "float64",
                    self.partial("max", m): "float64",
                }
            )
        return out


_S = "string"
ROLLUPS: dict[str, Rollup] = {
    r.dataset: r
    for r in (
        Rollup(
            "agg_transaction_monthly",
            "fact_transaction",
            (("branch_id", _S), ("channel", _S), ("txn_type", _S), ("direction", _S))
            + (("counterparty_type", _S),),
            ("amount",),
            date_column="txn_date",
        ),
        Rollup(
            "agg_balance_monthly",
            "fact_balance_monthly",
            (("month_end", "date"), ("branch_id", _S), ("product_id", "int64")),
            ("end_balance", "avg_daily_month", "avg_daily_quarter", "avg_daily_year"),
            month_column="month_end",
        ),
        Rollup(
            "agg_loan_monthly",
            "fact_loan",
            (("month_end", "date"), ("branch_id", _S), ("product_id", "int64"))
            + (("industry", _S), ("collateral", _S), ("grade", _S)),
            ("contract_amount", "balance"),
            month_column="month_end",
        ),
    )
}
# Their schemas, for datasources.schema.TABLES (this module imports nothing of the data layer).
ROLLUP_TABLES: dict[str, dict[str, str]] = {r.table: r.schema() for r in ROLLUPS.values()}


def rollup_expression(fact, rollup: Rollup):
    """Return the Ibis expression that computes `rollup` from its raw fact table."""
    keys = {name: fact[name] for name, _type in rollup.keys}
    if rollup.date_column:
        keys[MONTH] = fact[rollup.date_column].truncate("M").cast("date")
    aggs = {ROW_COUNT: fact.count()}
    for m in rollup.measures:
        aggs[rollup.partial("sum", m)] = fact[m].sum().cast("float64")
        aggs[rollup.partial("count", m)] = fact[m].count()
        aggs[rollup.partial("min", m)] = fact[m].min()
        aggs[rollup.partial("max", m)] = fact[m].max()
    return fact.group_by(**keys).aggregate(**aggs)


def build_rollups(backend) -> dict[str, int]:
    """Create (or replace) every rollup in a writable Ibis backend; return their row counts."""
    counts = {}
    for rollup in ROLLUPS.values():
        expr = rollup_expression(backend.table(rollup.dataset), rollup)
        backend.create_table(rollup.table, expr, overwrite=True)
        counts[rollup.table] = int(backend.table(rollup.table).count().execute())
    return counts


def rollup_table(tables, dataset: str, *, columns, month: bool, measures):
    """Return (rollup, its table from the provider) when it can replace `dataset`, else None.

    `columns` are the fact columns the query keeps or filters on, `month` whether it needs the
    month of the dataset's date column, `measures` the columns it sums, counts or bounds.
    """
    rollup = ROLLUPS.get(dataset)
    if rollup is None:
        return None
    if not set(columns) <= rollup.key_columns or not set(measures) <= set(rollup.measures):
        return None
    if month and not (rollup.date_column or rollup.month_column):
        return None
    try:
        return rollup, tables.table(rollup.table)
    except Exception:  # noqa: BLE001 - not in this warehouse (yet): read the facts
        log.debug("rollup %s unavailable, reading %s", rollup.table, dataset, exc_info=True)
        return None
