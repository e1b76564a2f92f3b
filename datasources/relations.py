"""Table access for queries: base tables from a provider, plus derived relations.

A `TableProvider` hands out warehouse tables for one caller. `FullAccess` returns them as
stored (the CLI, the generator checks, head-office service accounts); the security layer adds
a provider that applies row-level scope and masking when a table is obtained, so everything
built on a provider — metrics, pivots, ad-hoc queries, exports — inherits them.

Derived relations are Ibis expressions over base tables that the metric catalog refers to by
name as if they were tables (`org`, `customer_deposit_monthly`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import ibis

from datasources.schema import TABLES


class TableProvider(Protocol):
    """Gives Ibis tables to one caller; `scope_key` names what that caller may see."""

    scope_key: str

    def table(self, name: str): ...


class FullAccess:
    """Every table as stored: no row scope, no masking."""

    scope_key = "all"

    def __init__(self, warehouse):
        self.warehouse = warehouse

    def table(self, name: str):
        if name not in TABLES:
            raise KeyError(name)
        return self.warehouse.table(name)


class UnboundTables:
    """Schema-only tables (no data), used to validate catalog formulas without a warehouse."""

    scope_key = "unbound"

    def table(self, name: str):
        return ibis.table(TABLES[name], name=name)


def org(tables: TableProvider):
    """Map every branch id (sub-branch or branch) to its branch, sub-branch and region."""
    b = tables.table("dim_branch")
    parent = b.select(
        parent_key=b.branch_id,
        parent_name=b.branch_name,
        parent_name_en=b.branch_name_en,
        parent_level=b.level,
    )
    joined = b.left_join(parent, b.parent_id == parent.parent_key)
    is_sub = joined.level == "sub_branch"
    return joined.select(
        branch_id=joined.branch_id,
        branch_code=ibis.ifelse(is_sub, joined.parent_key, joined.branch_id),
        branch_name=ibis.ifelse(is_sub, joined.parent_name, joined.branch_name),
        branch_name_en=ibis.ifelse(is_sub, joined.parent_name_en, joined.branch_name_en),
        sub_branch_id=ibis.ifelse(is_sub, joined.branch_id, ibis.null(str)),
        sub_branch_name=ibis.ifelse(is_sub, joined.branch_name, ibis.null(str)),
        sub_branch_name_en=ibis.ifelse(is_sub, joined.branch_name_en, ibis.null(str)),
        city=joined.city,
        city_en=joined.city_en,
        region=joined.region,
        region_en=joined.region_en,
        latitude=joined.latitude,
        longitude=joined.longitude,
    )


CHURN_LOOKBACK_MONTHS = 3
CHURN_REMAINING_SHARE = 0.2
CHURN_MIN_BALANCE = 1000.0


def customer_deposit_monthly(tables: TableProvider):
    """Total deposits per customer and month-end, with the value three months before.

    A customer counts as churned in a month when their deposits fell below 20% of what they
    held three months earlier, having held at least 1,000 yuan then (the retail churn label).
    """
    bal = tables.table("fact_balance_monthly")
    prod = tables.table("dim_product")
    deposits = bal.join(prod.filter(prod.category == "deposit"), "product_id")
    per_month = deposits.group_by(["customer_id", "month_end", "branch_id"]).aggregate(
        deposit_total=deposits.end_balance.sum()
    )
    window = ibis.window(group_by="customer_id", order_by="month_end")
    with_lag = per_month.mutate(
        deposit_before=per_month.deposit_total.lag(CHURN_LOOKBACK_MONTHS).over(window)
    )
    base = with_lag.deposit_before.fill_null(0)
    flagged = with_lag.mutate(
        at_risk_base=base >= CHURN_MIN_BALANCE,
        below=(base >= CHURN_MIN_BALANCE) & (with_lag.deposit_total < base * CHURN_REMAINING_SHARE),
    )
    # Count a customer in the first month of a run of low months only, not in each of them.
    previous = flagged.below.lag(1).over(window).fill_null(False)
    return flagged.mutate(churned=flagged.below & ~previous).drop("below")


DERIVED: dict[str, Callable] = {
    "org": org,
    "customer_deposit_monthly": customer_deposit_monthly,
}
# Base tables each derived relation reads, for lineage.
DERIVED_SOURCES: dict[str, list[str]] = {
    "org": ["dim_branch"],
    "customer_deposit_monthly": ["fact_balance_monthly", "dim_product"],
}


def relation(tables: TableProvider, name: str):
    """Return a base table or a derived relation by name."""
    if name in DERIVED:
        return DERIVED[name](tables)
    return tables.table(name)


def build_source(tables: TableProvider, joins: dict, table: str, aliases: set[str], base=None):
    """Return `table` (or `base`) left-joined to each alias, joined columns named alias__column."""
    base = relation(tables, table) if base is None else base
    for alias in sorted(aliases):
        join = joins[alias]
        other = relation(tables, join.table)
        other = other.rename({f"{alias}__{c}": c for c in other.columns})
        base = base.left_join(other, base[join.on] == other[f"{alias}__{join.on}"])
    return base


def relation_columns(name: str) -> list[str]:
    """Return the column names of a base table or derived relation."""
    if name in TABLES:
        return list(TABLES[name])
    return list(relation(UnboundTables(), name).columns)
