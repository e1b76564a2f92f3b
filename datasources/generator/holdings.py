"""Which products each customer holds, and from / until which month.

A holding is one customer x product; it is held in months start_k <= k < end_k. Loans are
listed here too, but their months come from the loan contracts (loans.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasources.generator.customers import (
    CORPORATE,
    PRIVATE,
    RETIRED,
    SELF_EMPLOYED,
    SMALL_BUSINESS,
    STUDENT,
    Population,
)
from datasources.generator.dates import Timeline

N_PRODUCTS = 14
CURRENT = 1
TIME_DEPOSITS = (2, 3, 4)
DEPOSITS = (1, 2, 3, 4)
MORTGAGE, CONSUMER, BUSINESS, CORP_LOAN = 5, 6, 7, 8
LOANS = (5, 6, 7, 8)
CARDS = (9, 10)
WEALTH = (11, 12)
FUNDS = (13, 14)
INVESTMENTS = (11, 12, 13, 14)
MAX_PRODUCTS = 5
# Kept first when a customer would exceed MAX_PRODUCTS.
PRIORITY = [1, 5, 6, 7, 8, 9, 10, 2, 3, 4, 11, 12, 13, 14]


@dataclass
class Holdings:
    cust: np.ndarray  # customer index, sorted (then by product)
    product: np.ndarray  # product id 1..14
    start_k: np.ndarray
    end_k: np.ndarray  # exclusive

    def __len__(self) -> int:
        return len(self.cust)


def _by_segment(values, segment):
    return np.asarray(values, dtype=float)[segment]


def build_holdings(rng: np.random.Generator, pop: Population, tl: Timeline) -> Holdings:
    n, seg = len(pop), pop.segment
    retail = ~pop.corp
    u = rng.random((n, 12))
    has = np.zeros((n, N_PRODUCTS + 1), dtype=bool)
    has[:, CURRENT] = True

    # Time deposits: one term, private customers sometimes a second.
    p_time = _by_segment([0.30, 0.58, 0.72, 0.35, 0.62], seg)
    term = rng.choice(3, size=n, p=[0.3, 0.45, 0.25])
    has[np.arange(n), 2 + term] = u[:, 0] < p_time
    second = (seg == PRIVATE) & (u[:, 1] < 0.3)
    has[np.arange(n), 2 + (term + 1) % 3] |= second

    # Loans.
    age_mtg = np.array([0.15, 0.9, 1.2, 1.0, 0.5, 0.15, 0.0])[pop.age_band]
    has[:, MORTGAGE] = retail & (u[:, 2] < _by_segment([0.12, 0.22, 0.18, 0, 0], seg) * age_mtg)
    young = np.array([1.6, 1.3, 1.0, 0.8, 0.5, 0.2, 0.0])[pop.age_band]
    has[:, CONSUMER] = retail & (u[:, 3] < _by_segment([0.08, 0.05, 0.02, 0, 0], seg) * young)
    self_emp = np.isin(pop.occupation, SELF_EMPLOYED) & retail
    p_bus = np.where(
        self_emp, 0.35, np.where(seg == SMALL_BUSINESS, 0.35, np.where(seg == CORPORATE, 0.08, 0.0))
    )
    has[:, BUSINESS] = u[:, 4] < p_bus
    has[:, CORP_LOAN] = u[:, 5] < np.where(
        seg == CORPORATE, 0.8, np.where(seg == SMALL_BUSINESS, 0.25, 0.0)
    )

    # Credit cards: platinum for the better-off.
    card_age = np.array([0.7, 1.0, 1.0, 0.9, 0.6, 0.25, 0.0])[pop.age_band]
    card_age = np.where(pop.occupation == STUDENT, 0.4, card_age)
    has_card = retail & (u[:, 6] < _by_segment([0.38, 0.55, 0.62, 0, 0], seg) * card_age)
    platinum = u[:, 7] < _by_segment([0.05, 0.5, 0.85, 0, 0], seg)
    has[:, 9] = has_card & ~platinum
    has[:, 10] = has_card & platinum

    # Wealth products and funds, by risk appetite.
    p_wm = _by_segment([0.07, 0.45, 0.75, 0.06, 0.18], seg)
    p_wm = np.where(pop.occupation == STUDENT, 0.01, p_wm)
    has_wm = u[:, 8] < p_wm
    growth = pop.risk + rng.random(n) * 2 > 3.0
    has[:, 11] = has_wm & (~growth | (seg == PRIVATE) & (u[:, 9] < 0.3))
    has[:, 12] = has_wm & growth
    p_fund = np.where(retail, _by_segment([0.05, 0.25, 0.5, 0, 0], seg), 0.0)
    p_fund = np.where(pop.occupation == RETIRED, p_fund * 0.5, p_fund)
    has_fund = u[:, 10] < p_fund
    equity = pop.risk + rng.random(n) * 2 > 3.2
    has[:, 13] = has_fund & (~equity | (u[:, 11] < 0.25))
    has[:, 14] = has_fund & equity

    # At most MAX_PRODUCTS, keeping loans and cards before investments.
    ordered = has[:, PRIORITY]
    keep = ordered & (np.cumsum(ordered, axis=1) <= MAX_PRODUCTS)
    has[:, PRIORITY] = keep

    cust, product = np.nonzero(has[:, 1:])
    product = product + 1
    h = len(cust)
    K = tl.n_months
    open_k = pop.open_k[cust]
    base = np.maximum(open_k, 0)
    # Products other than the current account: opened at or after the customer's start,
    # or (for long-standing customers) sometimes newly taken up within the simulated range.
    delay = rng.geometric(0.45, h) - 1
    late = rng.random(h) < 0.18
    start = np.where(open_k >= 0, open_k + delay, np.where(late, rng.integers(1, K, h), 0))
    start = np.where(product == CURRENT, base, np.minimum(start, K - 1))
    end = np.full(h, K)
    inv = np.isin(product, INVESTMENTS + TIME_DEPOSITS)
    redeem = inv & (rng.random(h) < 0.06)
    span = np.maximum(K - start - 3, 1)
    end = np.where(redeem & (K - start > 4), start + 3 + (rng.random(h) * span).astype(int), end)
    end = np.minimum(end, K)
    return Holdings(cust=cust, product=product, start_k=start, end_k=end)


def products_per_customer(hold: Holdings, n: int) -> np.ndarray:
    return np.bincount(hold.cust, minlength=n)
