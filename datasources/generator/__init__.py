"""The synthetic bank warehouse generator (SPEC §5.1).

`generate_warehouse(path, scale, seed)` writes a deterministic synthetic bank to a DuckDB
file: branches, customers, products, calendar, monthly balances, transactions, loans with
grade migration, e-banking usage, budgets and external data. Scale 1 is about 100,000
customers. Churn emerges from behaviour (see `behaviour.py`).
"""

from __future__ import annotations

import datetime
import os
import sys
from contextlib import contextmanager

import numpy as np
from tqdm import tqdm

from datasources.generator.balances import build_balances
from datasources.generator.behaviour import build_behaviour, end_holdings_at_churn
from datasources.generator.channels import build_channel_usage
from datasources.generator.customers import build_population, customer_count, dim_customer
from datasources.generator.dates import HISTORY_MONTHS, build_timeline, dim_date
from datasources.generator.external import build_budget, build_news, build_registry
from datasources.generator.holdings import build_holdings
from datasources.generator.loans import build_loans
from datasources.generator.transactions import build_transactions
from datasources.generator.writer import WarehouseWriter
from datasources.reference import BRANCHES, PRODUCTS

GENERATOR_VERSION = "1"
DEFAULT_SEED = 20261130
DEFAULT_AS_OF = datetime.date(2026, 11, 30)
# Fixed spawn keys: each phase draws from its own stream, independent of the others' draws.
PHASES = {
    "population": 1,
    "holdings": 2,
    "behaviour": 3,
    "loans": 4,
    "balances": 5,
    "customers": 6,
    "transactions": 7,
    "channels": 8,
    "budget": 9,
    "registry": 10,
    "news": 11,
}
STEPS = [
    "dim_branch", "dim_product", "dim_date", "customers", "fact_loan", "fact_balance_monthly",
    "dim_customer", "fact_transaction", "fact_channel_usage", "fact_budget",
    "ext_company_registry", "ext_industry_news", "meta_warehouse", "rollups", "checkpoint",
]  # fmt: skip

__all__ = ["GENERATOR_VERSION", "generate_warehouse"]


def phase_rng(seed: int, phase: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PHASES[phase],)))


def dim_branch() -> dict:
    def path(b):
        parts, cur = [], b
        while cur is not None:
            parts.append(cur.branch_id)
            cur = next((p for p in BRANCHES if p.branch_id == cur.parent_id), None)
        return "/" + "/".join(reversed(parts)) + "/"

    return {
        "branch_id": [b.branch_id for b in BRANCHES],
        "branch_name": [b.name_zh for b in BRANCHES],
        "branch_name_en": [b.name_en for b in BRANCHES],
        "level": [b.level for b in BRANCHES],
        "parent_id": [b.parent_id for b in BRANCHES],
        "branch_path": [path(b) for b in BRANCHES],
        "city": [b.city_zh for b in BRANCHES],
        "city_en": [b.city_en for b in BRANCHES],
        "region": [b.region_zh for b in BRANCHES],
        "region_en": [b.region_en for b in BRANCHES],
        "latitude": [b.latitude for b in BRANCHES],
        "longitude": [b.longitude for b in BRANCHES],
    }


def dim_product() -> dict:
    return {
        "product_id": [p.product_id for p in PRODUCTS],
        "product_code": [p.code for p in PRODUCTS],
        "product_name": [p.name_zh for p in PRODUCTS],
        "product_name_en": [p.name_en for p in PRODUCTS],
        "category": [p.category for p in PRODUCTS],
        "subcategory": [p.subcategory for p in PRODUCTS],
        "is_asset": [p.is_asset for p in PRODUCTS],
        "rate": [p.rate for p in PRODUCTS],
    }


def generate_warehouse(
    path,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
    as_of: datetime.date = DEFAULT_AS_OF,
) -> dict[str, int]:
    """Write the synthetic bank to a DuckDB file at `path`; return rows per table.

    The file is built as `path + '.tmp'` and moved onto `path` when complete, so a reader
    never sees a half-written warehouse and a failure leaves the previous file in place.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    tl = build_timeline(as_of)
    bar = tqdm(total=len(STEPS), disable=not progress, file=sys.stderr, unit="step")

    @contextmanager
    def step(name: str):
        bar.set_description(name)
        yield
        bar.update(1)

    writer = WarehouseWriter(os.fspath(path))
    try:
        with step("dim_branch"):
            writer.write("dim_branch", dim_branch())
        with step("dim_product"):
            writer.write("dim_product", dim_product())
        with step("dim_date"):
            writer.write("dim_date", dim_date(tl))
        with step("customers"):
            pop = build_population(phase_rng(seed, "population"), customer_count(scale), tl)
            hold = build_holdings(phase_rng(seed, "holdings"), pop, tl)
            beh = build_behaviour(phase_rng(seed, "behaviour"), pop, hold, tl)
            end_holdings_at_churn(hold, beh)
        with step("fact_loan"):
            loans = build_loans(phase_rng(seed, "loans"), pop, hold, beh, tl)
            writer.write("fact_loan", loans.table)
        with step("fact_balance_monthly"):
            bal = build_balances(phase_rng(seed, "balances"), pop, hold, beh, loans, tl)
            writer.write("fact_balance_monthly", bal.table)
        with step("dim_customer"):
            is_payroll = beh.payroll[:, -1] & ~beh.churned
            customer = dim_customer(phase_rng(seed, "customers"), pop, is_payroll, tl)
            writer.write("dim_customer", customer)
        with step("fact_transaction"):
            txn = build_transactions(phase_rng(seed, "transactions"), pop, hold, beh, bal, tl)
            writer.write("fact_transaction", txn)
        with step("fact_channel_usage"):
            usage = build_channel_usage(phase_rng(seed, "channels"), pop, beh, tl)
            writer.write("fact_channel_usage", usage)
        with step("fact_budget"):
            budget = build_budget(phase_rng(seed, "budget"), pop, hold, bal, tl)
            writer.write("fact_budget", budget)
        with step("ext_company_registry"):
            registry_rng = phase_rng(seed, "registry")
            registry = build_registry(registry_rng, pop, customer, loans.npl_customer, tl)
            writer.write("ext_company_registry", registry)
        with step("ext_industry_news"):
            writer.write("ext_industry_news", build_news(phase_rng(seed, "news"), scale, tl))
        with step("meta_warehouse"):
            writer.write("meta_warehouse", _meta(seed, scale, as_of))
        with step("rollups"):
            writer.build_rollups()
        with step("checkpoint"):
            rows = writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    return rows


def _meta(seed: int, scale: float, as_of: datetime.date) -> dict:
    return {
        "generator_version": [GENERATOR_VERSION],
        "seed": [int(seed)],
        "scale": [float(scale)],
        "as_of": np.array([as_of], dtype="datetime64[D]"),
        "history_months": [HISTORY_MONTHS],
    }
