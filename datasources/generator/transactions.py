"""Transactions of the last twelve months (`fact_transaction`).

Four sources, merged and numbered in date order:
- everyday transactions: a Poisson count per customer-month from the customer's activity
  and engagement, typed by a customer-specific mix, with channels by digital propensity
  (the counter declines over the year);
- payroll inflows (代发薪) around the 10th-15th, and pensions for retirees;
- churn run-off: large transfers out to individuals (the customer's accounts elsewhere) that
  carry the drop of the deposit balance;
- short-term funds: a large inflow followed within days by an outflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from datasources.generator import text
from datasources.generator.balances import BalanceResult
from datasources.generator.behaviour import Behaviour
from datasources.generator.customers import RETIRED, Population
from datasources.generator.dates import Timeline
from datasources.generator.holdings import CARDS, CURRENT, INVESTMENTS, LOANS, Holdings

TXN_TYPES = [
    "payroll", "transfer", "consumption", "withdrawal", "deposit", "repayment",
    "wealth_purchase", "fee",
]  # fmt: skip
PAYROLL, TRANSFER, CONSUMPTION, WITHDRAWAL, DEPOSIT, REPAYMENT, WEALTH, FEE = range(8)
CHANNELS = ["counter", "mobile", "online", "atm", "pos"]
COUNTER, MOBILE, ONLINE, ATM, POS = range(5)
DIRECTIONS = ["in", "out"]
IN, OUT = 0, 1
COUNTERPARTIES = ["individual", "corporate", "government", "internal"]
INDIVIDUAL, CORPORATE_CP, GOVERNMENT, INTERNAL = range(4)
# Median amount per everyday type (rows TRANSFER..FEE) and segment, and the spread.
AMOUNT_MEDIAN = np.array([
    [1_500, 6_000, 30_000, 60_000, 400_000],
    [120, 300, 900, 3_000, 15_000],
    [800, 2_000, 5_000, 10_000, 30_000],
    [2_000, 8_000, 30_000, 20_000, 100_000],
    [2_500, 6_000, 15_000, 30_000, 300_000],
    [20_000, 100_000, 500_000, 300_000, 3_000_000],
    [8, 15, 40, 60, 200],
], dtype=float)  # fmt: skip
AMOUNT_SIGMA = np.array([1.1, 1.0, 0.6, 0.9, 0.6, 0.7, 0.7])
ACTIVITY_SCALE = 0.8


def _first_held(hold: Holdings, held_k: np.ndarray, products, n: int) -> np.ndarray:
    """(n, months) product id of the first holding among `products` held that month, or 0."""
    out = np.zeros((n, held_k.shape[1]), dtype=np.int64)
    rows = np.flatnonzero(np.isin(hold.product, products))[::-1]  # first one wins
    for j in range(held_k.shape[1]):
        r = rows[held_k[rows, j]]
        out[hold.cust[r], j] = hold.product[r]
    return out


def _part(cust, kt, day, ttype, direction, amount, channel, cp, product):
    """One source of transactions as nine aligned columns (scalars are broadcast)."""
    n = len(cust)
    values = (cust, kt, day, ttype, direction, amount, channel, cp, product)
    return tuple(np.broadcast_to(np.asarray(v), (n,)) for v in values)


def _draw_columns(u, weights):
    """Index of the category drawn by uniform u, given a list of per-row weight columns."""
    x = u * sum(weights)
    acc = np.zeros(len(u))
    out = np.zeros(len(u), dtype=np.int8)
    for w in weights[:-1]:
        acc += w
        out += x > acc
    return out


@dataclass
class _Context:
    pop: Population
    beh: Behaviour
    tl: Timeline
    months: np.ndarray  # month indices k with transactions
    open_day: np.ndarray  # day of month the customer opened

    def days_from(self, cust, kt, rng):
        """A uniform day in month kt, not before the customer's opening."""
        lo = np.where(self.pop.open_k[cust] == self.months[kt], self.open_day[cust], 1)
        return lo + (rng.random(len(cust)) * (self.tl.days[self.months][kt] - lo + 1)).astype(
            np.int64
        )


def build_transactions(
    rng: np.random.Generator,
    pop: Population,
    hold: Holdings,
    beh: Behaviour,
    bal: BalanceResult,
    tl: Timeline,
) -> dict:
    months = np.arange(tl.first_txn, tl.n_months)
    open_day = (
        pop.open_date - pop.open_date.astype("datetime64[M]").astype("datetime64[D]")
    ).astype(np.int64) + 1
    ctx = _Context(pop, beh, tl, months, open_day)
    parts = [
        _everyday(rng, ctx, hold, bal),
        *_payroll_and_pensions(rng, ctx),
        _churn_outflows(rng, ctx, bal),
        *_short_term_funds(rng, ctx),
    ]
    cols = [np.concatenate([part[i] for part in parts]) for i in range(9)]
    cust, kt, day, ttype, direction, amount, channel, cp, product = cols
    date = tl.month_start[months][kt] + (day - 1).astype("timedelta64[D]")
    day_index = (date - tl.month_start[tl.first_txn]).astype(np.int16)
    order = np.argsort(day_index, kind="stable")  # txn_id follows the date
    cust = cust[order]
    cid = pop.customer_id[cust]
    return {
        "txn_id": np.arange(1, len(order) + 1, dtype=np.int64),
        "txn_date": date[order],
        "customer_id": cid,
        "account_id": cid * 100 + product[order],
        "branch_id": _dict(text.SUB_IDS, pop.sub[cust]),
        "channel": _dict(CHANNELS, channel[order]),
        "txn_type": _dict(TXN_TYPES, ttype[order]),
        "direction": _dict(DIRECTIONS, direction[order]),
        "amount": np.round(np.maximum(amount[order], 0.01), 2),
        "counterparty_type": _dict(COUNTERPARTIES, cp[order]),
    }


def _everyday(rng, ctx: _Context, hold: Holdings, bal: BalanceResult):
    """A Poisson count per customer x month x type; the type mix is the customer's own,
    given what they hold that month."""
    pop, months = ctx.pop, ctx.months
    n, T = len(pop), len(months)
    held = bal.held[:, months]
    card = _first_held(hold, held, CARDS, n)
    loan = _first_held(hold, held, LOANS, n)
    inv = _first_held(hold, held, INVESTMENTS, n)
    d, corp = pop.digital, pop.corp
    lam = pop.activity[:, None] * ctx.beh.engagement[:, months] * ACTIVITY_SCALE
    credit = (card > 0) | (loan > 0)
    ones = np.ones((n, T))

    def col(values):
        return np.asarray(values, dtype=float)[:, None] * ones

    w = np.stack(
        [
            col(np.where(corp, 0.60, 0.22)),  # transfer
            col(np.where(corp, 0.12, 0.42)),  # consumption
            col(np.where(corp, 0.05, 0.10 * (1.3 - d))),  # withdrawal
            col(np.where(corp, 0.10, 0.06 * (1.3 - d))),  # deposit
            col(np.where(corp, 0.06, 0.07)) * credit,  # repayment
            col(np.where(corp, 0.03, 0.04 + 0.03 * (pop.segment == 2))) * (inv > 0),  # wealth
            col(np.where(corp, 0.04, 0.01 + 0.07 * pop.fee)),  # fee
        ],
        axis=0,
    )  # (7, n, T)
    w *= lam / w.sum(axis=0)
    counts = rng.poisson(w.transpose(2, 1, 0)).ravel()  # month, customer, type
    rows = np.repeat(np.arange(T * n * 7, dtype=np.int64), counts)
    ttype = (rows % 7 + 1).astype(np.int8)
    cust = (rows // 7) % n
    kt = rows // (7 * n)
    del rows
    m = len(cust)
    day = ctx.days_from(cust, kt, rng)
    amount = AMOUNT_MEDIAN[ttype - 1, pop.segment[cust]] * np.exp(
        rng.standard_normal(m) * AMOUNT_SIGMA[ttype - 1]
    )
    cash = (ttype == WITHDRAWAL) | (ttype == DEPOSIT)
    amount[cash] = np.maximum(np.round(amount[cash], -2), 100)
    sel = ttype == WEALTH
    amount[sel] = np.maximum(np.round(amount[sel], -3), 1000)
    sel = ttype == FEE
    amount[sel] = np.clip(amount[sel], 0.5, 2000)
    direction = np.where(ttype == DEPOSIT, IN, OUT).astype(np.int8)
    transfer_in = (ttype == TRANSFER) & (rng.random(m) < np.where(corp[cust], 0.5, 0.45))
    direction[transfer_in] = IN
    # Accounts: cards pay some consumption; repayments go to the loan or the card.
    product = np.full(m, CURRENT, dtype=np.int64)
    c_card, c_loan = card[cust, kt], loan[cust, kt]
    uu = rng.random(m)
    sel = (ttype == CONSUMPTION) & (c_card > 0) & (uu < 0.55)
    product[sel] = c_card[sel]
    sel = ttype == REPAYMENT
    product[sel] = np.where(
        (c_loan[sel] > 0) & ((c_card[sel] == 0) | (uu[sel] < 0.5)), c_loan[sel], c_card[sel]
    )
    sel = ttype == WEALTH
    product[sel] = inv[cust[sel], kt[sel]]
    cp = _counterparty(rng, ttype, direction, corp[cust])
    channel = _channel(rng, ttype, d[cust], corp[cust], kt / max(T - 1, 1))
    return _part(cust, kt, day, ttype, direction, amount, channel, cp, product)


def _payroll_and_pensions(rng, ctx: _Context):
    """Payroll around the 10th-15th (a weekend pay day moves to Friday); pensions."""
    pop, beh, tl, months = ctx.pop, ctx.beh, ctx.tl, ctx.months
    n = len(pop)
    kr, cust = np.nonzero(beh.payroll[:, months].T)
    day = rng.integers(10, 16, n)[cust]
    dates = tl.month_start[months][kr] + (day - 1).astype("timedelta64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7  # 5 = Saturday, 6 = Sunday
    day = day - np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    bonus = np.isin(tl.month[months][kr], (1, 2)) & (rng.random(len(cust)) < 0.2)
    amount = (
        pop.salary[cust]
        * rng.lognormal(0, 0.05, len(cust))
        * np.where(bonus, rng.uniform(1.5, 3.0, len(cust)), 1.0)
    )
    payroll = _part(cust, kr, day, PAYROLL, IN, amount, ONLINE, CORPORATE_CP, CURRENT)

    # Pensions move to the new bank when the run-off starts, like payroll.
    retired = (pop.occupation == RETIRED) & ~pop.corp
    moved = np.where(beh.silent, beh.churn_k, beh.churn_k - beh.lead)
    alive = (months[None, :] > pop.open_k[:, None]) & (months[None, :] < moved[:, None])
    kr, cust = np.nonzero((retired[:, None] & alive).T)
    level = 3_500 * pop.city_factor * rng.lognormal(0, 0.3, n)
    amount = level[cust] * rng.lognormal(0, 0.02, len(cust))
    day = rng.integers(5, 10, n)[cust]
    pension = _part(cust, kr, day, TRANSFER, IN, amount, ONLINE, GOVERNMENT, CURRENT)
    return payroll, pension


def _churn_outflows(rng, ctx: _Context, bal: BalanceResult):
    """Most of a churner's money leaves in the last month(s) before churn, in large transfers
    to individuals (the customer's own accounts at other banks)."""
    beh, months, d = ctx.beh, ctx.months, ctx.pop.digital
    dep = bal.deposit_total
    decline = np.maximum(dep[:, months - 1] - dep[:, months], 0.0)
    k = months[None, :]
    runoff = (k >= (beh.churn_k - 1)[:, None]) & (k <= beh.churn_k[:, None])
    large = decline > np.maximum(0.35 * dep[:, months - 1], 100.0)
    kr, cust = np.nonzero((runoff & large).T)
    pieces = 1 + (rng.random(len(cust)) < 0.15)
    kr, cust = np.repeat(kr, pieces), np.repeat(cust, pieces)
    share = rng.uniform(0.5, 1.5, len(cust))
    total = np.bincount(np.repeat(np.arange(len(pieces)), pieces), weights=share)
    kept = np.repeat(rng.uniform(0.9, 1.0, len(pieces)), pieces)
    amount = decline[cust, kr] * kept * share / np.repeat(total, pieces)
    m = len(cust)
    chan = np.where(d[cust] > 0.5, MOBILE, np.where(rng.random(m) < 0.5, COUNTER, ONLINE))
    day = ctx.days_from(cust, kr, rng)
    cp = np.where(rng.random(m) < 0.85, INDIVIDUAL, CORPORATE_CP)
    return _part(cust, kr, day, TRANSFER, OUT, amount, chan, cp, CURRENT)


def _short_term_funds(rng, ctx: _Context):
    """A large inflow, out again (85-100%) within one to five days."""
    pop, tl, months = ctx.pop, ctx.tl, ctx.months
    k = months[None, :]
    p = np.array([0.012, 0.03, 0.04, 0.04, 0.05])[pop.segment][:, None]
    p = p * (k >= pop.open_k[:, None]) * (k < ctx.beh.churn_k[:, None])
    kr, cust = np.nonzero(rng.random((len(months), len(pop))) < p.T)
    m = len(cust)
    big = np.array([50_000, 200_000, 1_000_000, 500_000, 3_000_000])[pop.segment[cust]]
    x = np.round(big * rng.lognormal(0, 0.6, m), -2)
    day_in = ctx.days_from(cust, kr, rng)
    as_deposit = rng.random(m) < 0.2
    remote = np.where(pop.digital[cust] > 0.5, MOBILE, ONLINE)
    ttype = np.where(as_deposit, DEPOSIT, TRANSFER)
    chan = np.where(as_deposit, COUNTER, remote)
    cp = np.where(as_deposit, INTERNAL, np.where(rng.random(m) < 0.5, INDIVIDUAL, CORPORATE_CP))
    inflow = _part(cust, kr, day_in, ttype, IN, x, chan, cp, CURRENT)
    # The outflow may fall into the next month (or be cut at the as-of date).
    start = tl.month_start[months]
    out_date = start[kr] + (day_in - 1 + rng.integers(1, 6, m)).astype("timedelta64[D]")
    out_date = np.minimum(out_date, tl.month_end[-1])
    kr2 = tl.month_index(out_date) - tl.first_txn
    day_out = (out_date - start[kr2]).astype(np.int64) + 1
    amount = np.round(x * rng.uniform(0.85, 1.0, m), 2)
    cp = np.where(rng.random(m) < 0.6, INDIVIDUAL, CORPORATE_CP)
    outflow = _part(cust, kr2, day_out, TRANSFER, OUT, amount, remote, cp, CURRENT)
    return inflow, outflow


def _dict(values: list[str], codes: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(values))


def _counterparty(rng, ttype, direction, corp):
    m = len(ttype)
    u = rng.random(m)
    transfer = np.where(
        corp,
        np.where(u < 0.7, CORPORATE_CP, np.where(u < 0.9, INDIVIDUAL, GOVERNMENT)),
        np.where(
            direction == IN,
            np.where(u < 0.6, INDIVIDUAL, np.where(u < 0.92, CORPORATE_CP, GOVERNMENT)),
            np.where(u < 0.75, INDIVIDUAL, np.where(u < 0.95, CORPORATE_CP, GOVERNMENT)),
        ),
    )
    return np.select(
        [ttype == TRANSFER, ttype == CONSUMPTION, ttype == PAYROLL],
        [transfer, CORPORATE_CP, CORPORATE_CP],
        INTERNAL,
    )


def _channel(rng, ttype, d, corp, tau):
    """Channel per transaction: mobile dominant, counter declining over the year (tau 0..1)."""
    m = len(ttype)
    u = rng.random(m)
    out = np.zeros(m, dtype=np.int8)
    for t in range(len(TXN_TYPES)):
        idx = np.flatnonzero(ttype == t)
        if len(idx) == 0:
            continue
        dd, cc = d[idx], corp[idx]
        cf = (1.0 - 0.6 * tau[idx]) * (1.0 - dd)
        zero = np.zeros(len(idx))
        mob = 0.25 + 0.9 * dd
        if t == CONSUMPTION:
            cols = [zero, mob, 0.12 * dd, zero, 0.7 * (1.1 - dd)]
        elif t == WITHDRAWAL:
            cols = [0.5 * cf + 0.05, zero, zero, zero + 1.0, zero]
        elif t == DEPOSIT:
            cols = [cf + 0.15, zero, zero, zero + 0.8, zero]
        elif t == PAYROLL:
            cols = [zero, zero, zero + 1.0, zero, zero]
        else:
            if t in (TRANSFER, FEE):
                cols = [0.6 * cf + 0.03, mob, zero + 0.2, zero, zero]
            elif t == REPAYMENT:
                cols = [0.4 * cf + 0.02, 0.3 + 0.8 * dd, zero + 0.2, zero, zero]
            else:  # WEALTH
                cols = [cf + 0.05, 0.3 + 0.8 * dd, zero + 0.2, zero, zero]
            corp_cols = [0.5 * cf + 0.05, zero + 0.6, zero + 1.0, zero, zero]
            cols = [np.where(cc, a, b) for a, b in zip(corp_cols, cols, strict=True)]
        out[idx] = _draw_columns(u[idx], cols)
    return out
