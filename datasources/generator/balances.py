"""Monthly balances per customer x product (`fact_balance_monthly`).

Deposits and investments follow the customer's deposit path (trend, seasonality, noise,
churn run-off) times a small product-level noise; funds also follow a market index. Cards
follow spending; loans come from the contracts. Daily averages are derived from the
month-end path: the month's average is about the mean of this and the previous month-end,
the quarter's and year's averages are the means of the month averages so far (months not
held count as zero, as they would in a day-weighted average).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasources.generator import text
from datasources.generator.behaviour import Behaviour
from datasources.generator.customers import PRIVATE, Population
from datasources.generator.dates import Timeline
from datasources.generator.holdings import (
    CARDS,
    CURRENT,
    DEPOSITS,
    FUNDS,
    TIME_DEPOSITS,
    WEALTH,
    Holdings,
)
from datasources.generator.loans import LoanResult


@dataclass
class BalanceResult:
    table: dict
    held: np.ndarray  # (H, K) bool: holding outstanding in month k
    end: np.ndarray  # (H, K) end balances
    deposit_total: np.ndarray  # (n, K) sum of deposit end balances per customer


def _ar1(rng, shape, sigma, phi=0.6):
    shocks = rng.normal(0, 1, shape) * sigma
    out = np.empty(shape)
    out[:, 0] = shocks[:, 0]
    for j in range(1, shape[1]):
        out[:, j] = phi * out[:, j - 1] + shocks[:, j]
    return out


def build_balances(
    rng: np.random.Generator,
    pop: Population,
    hold: Holdings,
    beh: Behaviour,
    loans: LoanResult,
    tl: Timeline,
) -> BalanceResult:
    K, H = tl.n_months, len(hold)
    k = np.arange(K)[None, :]
    cust, product = hold.cust, hold.product
    seg = pop.segment[cust]
    is_current = product == CURRENT
    is_time = np.isin(product, TIME_DEPOSITS)
    is_wealth = np.isin(product, WEALTH)
    is_fund = np.isin(product, FUNDS)
    is_card = np.isin(product, CARDS)
    is_asset_like = is_current | is_time | is_wealth | is_fund

    # Split the customer's financial assets over deposit and investment holdings.
    w = np.select(
        [is_current, is_time, is_wealth, is_fund],
        [
            np.where(seg == 0, 2.0, np.where(seg >= 3, 1.5, 0.6)) * rng.uniform(0.5, 1.5, H),
            rng.uniform(1.0, 3.0, H),
            rng.uniform(1.0, 3.0, H) * np.where(seg == PRIVATE, 1.5, 1.0),
            rng.uniform(0.5, 2.0, H),
        ],
        0.0,
    )
    w_sum = np.bincount(cust, weights=w, minlength=len(pop))
    base = pop.wealth[cust] * w / np.maximum(w_sum[cust], 1e-9)

    start = hold.start_k[:, None]
    held = (k >= start) & (k < hold.end_k[:, None])
    end = np.zeros((H, K))

    # Deposits and investments: the customer's deposit path x product noise x market x ramp.
    rows = np.flatnonzero(is_asset_like)
    sigma = np.select([is_current, is_time, is_wealth, is_fund], [0.08, 0.01, 0.03, 0.03])[rows]
    path = _ar1(rng, (len(rows), K), sigma[:, None])
    np.exp(path, out=path)
    path *= beh.deposit_factor[cust[rows]]
    path *= base[rows, None]
    # A market index for funds: equity funds swing, bond funds drift.
    equity = np.exp(np.cumsum(rng.normal(0.004, 0.045, K)))
    bond = np.exp(np.cumsum(rng.normal(0.0025, 0.004, K)))
    for pid, index in ((14, equity), (13, bond)):
        sel = product[rows] == pid
        path[sel] *= index
    # Products taken up within the range build up over a few months.
    late = np.flatnonzero(hold.start_k[rows] > 0)
    path[late] *= 1.0 - 0.5 * 0.5 ** np.maximum(k - hold.start_k[rows[late], None], 0)
    end[rows] = path
    del path

    # Cards: the month's spending, which follows engagement.
    rows = np.flatnonzero(is_card)
    spend = np.array([3_000, 9_000, 25_000, 0, 0])[seg[rows]] * rng.lognormal(0, 0.6, len(rows))
    end[rows] = spend[:, None] * beh.engagement[cust[rows]] * rng.lognormal(0, 0.35, (len(rows), K))
    # Loans: outstanding contract balances.
    loan_rows = loans.holding_index
    end[loan_rows] = loans.holding_balance
    held[loan_rows] = loans.holding_balance > 0
    end *= held

    # Daily averages: month = mean of this and the previous month-end (opened mid-month:
    # a fraction of the end balance), with a little noise.
    avg_m = np.empty_like(end)
    avg_m[:, 1:] = end[:, :-1]
    avg_m[:, 0] = end[:, 0]
    new_in_month = held.copy()
    new_in_month[:, 1:] &= ~held[:, :-1]
    new_in_month[:, 0] = False
    r, c = np.nonzero(new_in_month)
    avg_m[r, c] = end[r, c] * rng.uniform(0.3, 0.9, len(r))
    avg_m += end
    avg_m *= 0.5 * np.exp(rng.standard_normal((H, K), dtype=np.float32) * np.float32(0.03))
    avg_m *= held
    cum = np.zeros((H, K + 1))
    np.cumsum(avg_m, axis=1, out=cum[:, 1:])

    out_k = np.arange(tl.first_out, K)
    q0 = np.maximum(tl.quarter_start()[out_k], 0)
    y0 = np.maximum(tl.year_start()[out_k], 0)
    avg_q = (cum[:, out_k + 1] - cum[:, q0]) / (out_k - q0 + 1)
    avg_y = (cum[:, out_k + 1] - cum[:, y0]) / (out_k - y0 + 1)

    mask = held[:, out_k].T  # month-major, then customer, then product
    kr, hh = np.nonzero(mask)
    kk = kr + tl.first_out
    table = {
        "month_end": tl.month_end[kk],
        "customer_id": pop.customer_id[cust[hh]],
        "product_id": product[hh].astype(np.int64),
        "branch_id": text.pick(text.SUB_IDS, pop.sub[cust[hh]]),
        "end_balance": np.round(end[hh, kk], 2),
        "avg_daily_month": np.round(avg_m[hh, kk], 2),
        "avg_daily_quarter": np.round(avg_q[hh, kr], 2),
        "avg_daily_year": np.round(avg_y[hh, kr], 2),
    }
    dep = np.isin(product, DEPOSITS)
    deposit_total = np.stack(
        [np.bincount(cust[dep], weights=end[dep, j], minlength=len(pop)) for j in range(K)], axis=1
    )
    return BalanceResult(table=table, held=held, end=end, deposit_total=deposit_total)
