"""Loan contracts, their amortisation and five-category grade migration (`fact_loan`).

Each loan holding runs a chain of contracts: one outstanding at the start (or drawn when the
holding starts), then renewals when short-term loans mature. Each month a performing contract
amortises; its grade moves by a Markov chain whose rates depend on industry, collateral,
branch and borrower. Non-performing loans stop amortising and stay on the books until cured
or written off, so the NPL ratio settles in the low single percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasources.generator import text
from datasources.generator.behaviour import Behaviour
from datasources.generator.customers import CORPORATE, Population
from datasources.generator.dates import Timeline, any_month_dates
from datasources.generator.holdings import BUSINESS, CONSUMER, CORP_LOAN, LOANS, MORTGAGE, Holdings
from datasources.reference import LOAN_GRADES, PRODUCT_BY_ID, SUB_BRANCHES

INDUSTRIES = text.INDUSTRIES + ["个人"]
PERSONAL = len(text.INDUSTRIES)
COLLATERALS = ["房产抵押", "保证", "信用", "质押"]
INDUSTRY_RISK = np.array([1.1, 1.3, 2.2, 1.6, 0.7, 1.5, 0.9, 1.0])
COLLATERAL_RISK = np.array([0.8, 1.1, 1.3, 0.9])
# Monthly migration base rates; the down-grade rates scale with the contract's risk.
P_NORMAL_TO_WATCH = 0.012
P_NORMAL_TO_SUB = 0.0006
P_WATCH_CURE = 0.35
P_WATCH_TO_SUB = 0.02
P_SUB_CURE = 0.06
P_SUB_TO_DOUBT = 0.10
P_DOUBT_CURE = 0.02
P_DOUBT_TO_LOSS = 0.15
P_WRITE_OFF = 0.20
P_PREPAY = 0.004
TERMS = np.array([[240, 300, 360, 360], [12, 24, 36, 36], [12, 24, 36, 12], [12, 12, 24, 36]])


@dataclass
class LoanResult:
    table: dict  # fact_loan columns
    holding_index: np.ndarray  # indices into Holdings of the loan holdings
    holding_balance: np.ndarray  # (len(holding_index), K) balance, 0 when not outstanding
    npl_customer: np.ndarray  # (n,) bool: had a non-performing loan in the history


def _annuity_left(amount, rate_m, term, paid):
    growth = (1.0 + rate_m) ** term
    return amount * (growth - (1.0 + rate_m) ** paid) / (growth - 1.0)


def _migrate(grade, u, r):
    """One month of the five-category Markov chain, u ~ U(0,1), r = risk multiplier."""
    p01, p02 = P_NORMAL_TO_WATCH * r, P_NORMAL_TO_SUB * r
    p12, p23 = P_WATCH_TO_SUB, P_SUB_TO_DOUBT
    return np.select(
        [
            (grade == 0) & (u < p01),
            (grade == 0) & (u < p01 + p02),
            (grade == 1) & (u < P_WATCH_CURE),
            (grade == 1) & (u < P_WATCH_CURE + p12),
            (grade == 2) & (u < P_SUB_CURE),
            (grade == 2) & (u < P_SUB_CURE + p23),
            (grade == 3) & (u < P_DOUBT_CURE),
            (grade == 3) & (u < P_DOUBT_CURE + P_DOUBT_TO_LOSS),
        ],
        [1, 2, 0, 2, 1, 3, 2, 4],
        grade,
    )


def build_loans(
    rng: np.random.Generator, pop: Population, hold: Holdings, beh: Behaviour, tl: Timeline
) -> LoanResult:
    K = tl.n_months
    idx = np.flatnonzero(np.isin(hold.product, LOANS))
    cust, product = hold.cust[idx], hold.product[idx]
    m = len(idx)
    seg = pop.segment[cust]

    industry = np.where(np.isin(product, (MORTGAGE, CONSUMER)), PERSONAL, pop.industry[cust])
    industry = np.where(industry < 0, 1, industry)  # retail business loan without a trade
    u = rng.random(m)
    collateral = np.select(
        [product == MORTGAGE, product == CONSUMER, product == BUSINESS],
        [0, np.where(u < 0.3, 1, 2), np.where(u < 0.5, 0, np.where(u < 0.8, 1, 2))],
        np.where(u < 0.35, 0, np.where(u < 0.7, 1, np.where(u < 0.85, 2, 3))),
    )
    branch_risk = rng.lognormal(0, 0.35, len(SUB_BRANCHES))
    risk = (
        INDUSTRY_RISK[industry]
        * COLLATERAL_RISK[collateral]
        * branch_risk[pop.sub[cust]]
        * np.select([product == MORTGAGE, product == CONSUMER], [0.3, 1.4], 1.0)
        * np.where(beh.churned[cust], 2.0, 1.0)
        * rng.lognormal(0, 0.3, m)
    )
    rates = {p: PRODUCT_BY_ID[p].rate / 1200.0 for p in LOANS}
    rate_m = np.select([product == p for p in LOANS], [rates[p] for p in LOANS])
    renew_p = np.select([product == CONSUMER, product == MORTGAGE], [0.35, 0.0], 0.8)
    annuity = np.isin(product, (MORTGAGE, CONSUMER))
    amount_median = np.select(
        [product == MORTGAGE, product == CONSUMER, product == BUSINESS, seg == CORPORATE],
        [1_000_000 * pop.city_factor[cust] ** 2, 80_000, 900_000, 20_000_000],
        3_000_000,
    )
    amount_sigma = np.select([product == MORTGAGE, product == CONSUMER], [0.4, 0.6], 0.6)

    active = np.zeros(m, dtype=bool)
    grade = np.zeros(m, dtype=np.int64)
    paid = np.zeros(m, dtype=np.int64)
    term = np.ones(m, dtype=np.int64)
    amount = np.zeros(m)
    bullet = np.zeros(m, dtype=bool)
    cstart = np.zeros(m, dtype=np.int64)
    cid = np.full(m, -1)
    loss_months = np.zeros(m, dtype=np.int64)
    rec_hold, rec_start, rec_term, rec_amount = [], [], [], []
    count = 0

    def open_contracts(sel, start_k, t, a, paid0):
        nonlocal count
        active[sel], grade[sel], paid[sel], term[sel], amount[sel] = True, 0, paid0, t, a
        bullet[sel] = np.isin(product[sel], (BUSINESS, CORP_LOAN)) & (rng.random(len(sel)) < 0.6)
        cstart[sel] = start_k
        cid[sel] = count + np.arange(len(sel))
        loss_months[sel] = 0
        count += len(sel)
        rec_hold.append(sel)
        rec_start.append(np.broadcast_to(start_k, sel.shape).copy())
        rec_term.append(t)
        rec_amount.append(a)

    def draw_terms(sel):
        return TERMS[product[sel] - MORTGAGE, rng.integers(0, 4, len(sel))]

    def draw_amounts(sel):
        a = amount_median[sel] * rng.lognormal(0, amount_sigma[sel], len(sel))
        return np.maximum(np.round(a, -3), 10_000.0)

    # Contracts outstanding before the simulated range, some months already repaid.
    pre = np.flatnonzero(hold.start_k[idx] == 0)
    t = draw_terms(pre)
    max_age = np.maximum(-pop.open_k[cust[pre]], 0)
    age = np.minimum((rng.random(len(pre)) * np.minimum(t, 120)).astype(int), max_age)
    open_contracts(pre, -age, t, draw_amounts(pre), age)
    r0 = risk[pre]
    init = np.stack([np.ones(len(pre)), 0.025 * r0, 0.005 * r0, 0.003 * r0, 0.003 * r0], axis=1)
    init = np.cumsum(init / init.sum(axis=1, keepdims=True), axis=1)
    grade[pre] = (rng.random(len(pre))[:, None] > init[:, :-1]).sum(axis=1)

    balance = np.zeros((m, K))
    grades = np.full((m, K), -1, dtype=np.int8)
    contract_at = np.full((m, K), -1, dtype=np.int64)
    for k in range(K):
        new = np.flatnonzero((hold.start_k[idx] == k) & (k > 0))
        if len(new):
            open_contracts(new, np.full(len(new), k), draw_terms(new), draw_amounts(new), 0)
        seasoned = active & (cstart < k)
        grade = np.where(seasoned, _migrate(grade, rng.random(m), risk), grade)
        performing = grade < 2
        paid += seasoned & performing
        loss_months = np.where(active & (grade == 4), loss_months + 1, 0)
        matured = seasoned & performing & (paid >= term)
        prepaid = seasoned & performing & (product == MORTGAGE) & (rng.random(m) < P_PREPAY)
        written_off = (loss_months > 1) & (rng.random(m) < P_WRITE_OFF)
        renew = np.flatnonzero(matured & (rng.random(m) < renew_p))
        active &= ~(matured | prepaid | written_off)
        if len(renew):
            a = np.maximum(
                np.round(amount[renew] * rng.uniform(0.8, 1.3, len(renew)), -3), 10_000.0
            )
            open_contracts(renew, np.full(len(renew), k), draw_terms(renew), a, 0)

        done = np.minimum(paid, term)
        left = np.where(
            bullet,
            amount,
            np.where(
                annuity,
                _annuity_left(amount, rate_m, term, done),
                amount * (1.0 - done / term),
            ),
        )
        left = np.where(active, np.round(np.maximum(left, 0.0), 2), 0.0)
        balance[:, k] = left
        on = active & (left > 0)
        grades[on, k] = grade[on]
        contract_at[on, k] = cid[on]

    # Contract attributes and ids in order of start date.
    c_hold = np.concatenate(rec_hold)
    c_start = np.concatenate(rec_start)
    c_term = np.concatenate(rec_term)
    c_amount = np.concatenate(rec_amount)
    c_cust = cust[c_hold]
    day = rng.integers(1, 29, len(c_hold))
    opened_then = c_start == pop.open_k[c_cust]
    open_day = pop.open_date - pop.open_date.astype("datetime64[M]").astype("datetime64[D]")
    day = np.where(opened_then, np.maximum(day, open_day[c_cust].astype(int) + 1), day)
    start_date = any_month_dates(tl, c_start, day)
    maturity = any_month_dates(tl, c_start + c_term, day)
    order = np.lexsort((product[c_hold], pop.customer_id[c_cust], start_date))
    contract_id = np.empty(len(order), dtype=np.int64)
    contract_id[order] = np.arange(1, len(order) + 1)

    out_k = np.arange(tl.first_out, K)
    sub_grades = grades[:, out_k]
    kr, hh = np.nonzero(sub_grades.T >= 0)  # month-major
    kk = kr + tl.first_out
    c = contract_at[hh, kk]
    order = np.lexsort((contract_id[c], kk))
    hh, kk, c = hh[order], kk[order], c[order]
    table = {
        "month_end": tl.month_end[kk],
        "contract_id": contract_id[c],
        "customer_id": pop.customer_id[cust[hh]],
        "product_id": product[hh].astype(np.int64),
        "branch_id": text.pick(text.SUB_IDS, pop.sub[cust[hh]]),
        "start_date": start_date[c],
        "maturity_date": maturity[c],
        "contract_amount": c_amount[c],
        "balance": balance[hh, kk],
        "industry": text.pick(INDUSTRIES, industry[hh]),
        "collateral": text.pick(COLLATERALS, collateral[hh]),
        "grade": text.pick(list(LOAN_GRADES), grades[hh, kk]),
    }
    npl = np.zeros(len(pop), dtype=bool)
    npl[cust[(grades[:, tl.first_out :] >= 2).any(axis=1)]] = True
    return LoanResult(table=table, holding_index=idx, holding_balance=balance, npl_customer=npl)
