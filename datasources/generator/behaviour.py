"""Customer behaviour over time: churn, payroll, engagement and the deposit path.

Churn is not a label drawn at random: every retail customer has a latent hazard built from
observable traits (few products, no payroll, little digital use, youth, mass segment, short
tenure, high fees) plus noise. Churners go through a run-off of `lead` months before their
churn month: payroll stops, engagement (transactions, logins) falls and deposits drain; after
churn the accounts are near empty and quiet. Some non-churners have temporary dips, lose
payroll or make one large purchase, so the signal is strong but not perfect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasources.generator.customers import RETIRED, STUDENT, Population
from datasources.generator.dates import Timeline, seasonality
from datasources.generator.holdings import CURRENT, LOANS, Holdings, products_per_customer

CHURN_TARGET = 0.16  # share of eligible retail customers who churn within the history
NO_CHURN = 10_000


@dataclass
class Behaviour:
    churn_k: np.ndarray  # month of churn, NO_CHURN if none
    lead: np.ndarray  # run-off months before churn
    silent: np.ndarray  # churners with hardly any warning
    payroll: np.ndarray  # (n, K) bool: payroll paid in month k
    engagement: np.ndarray  # (n, K) float32: multiplier of transactions and logins
    deposit_factor: np.ndarray  # (n, K) float64: multiplier of deposit / investment balances
    hazard: np.ndarray  # latent churn logit (for diagnostics)

    @property
    def churned(self) -> np.ndarray:
        return self.churn_k < NO_CHURN


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def build_behaviour(
    rng: np.random.Generator, pop: Population, hold: Holdings, tl: Timeline
) -> Behaviour:
    n, K = len(pop), tl.n_months
    k = np.arange(K)[None, :]
    retail = ~pop.corp
    open_k = pop.open_k[:, None]
    exists = k >= open_k

    # Payroll status at the start (or at opening).
    payroll0 = retail & (rng.random(n) < pop.payroll_p)

    # Latent churn hazard from observable traits.
    n_prod = products_per_customer(hold, n)
    tenure_years = (np.datetime64(tl.as_of, "D") - pop.open_date).astype(int) / 365.25
    hazard = (
        -0.55 * (n_prod - 1)
        - 1.0 * payroll0
        - 1.4 * (pop.digital - 0.6)
        + np.array([0.6, 0.25, 0.0, -0.1, -0.2, -0.35, 0.0])[pop.age_band]
        + np.array([0.35, -0.15, -0.6, 0.0, 0.0])[pop.segment]
        + 0.6 * (tenure_years < 3.0)
        + 0.3 * (tenure_years < 6.0)
        + 1.2 * pop.fee
        + rng.normal(0, 0.7, n)
    )
    first, last = tl.first_out + 3, K - 1
    lower = np.maximum(first, pop.open_k + 4)
    eligible = retail & (lower <= last)
    alpha = _calibrate(hazard[eligible], CHURN_TARGET)
    churns = eligible & (rng.random(n) < _sigmoid(alpha + hazard))

    # Churn month: spread over the history, more in the last twelve months.
    w = np.where(np.arange(K) >= tl.first_txn, 1.8, 1.0) * (np.arange(K) >= first)
    cw = np.cumsum(w)
    lo = cw[np.clip(lower - 1, 0, K - 1)]
    draw = lo + rng.random(n) * (cw[-1] - lo)
    churn_k = np.where(churns, np.searchsorted(cw, draw, side="left"), NO_CHURN)
    churn_k = np.where(churns, np.clip(churn_k, lower, last), NO_CHURN)
    lead = rng.choice([2, 3, 4], size=n, p=[0.3, 0.45, 0.25])
    silent = churns & (rng.random(n) < 0.2)
    lead = np.where(silent, 1, lead)
    lead = np.minimum(lead, np.maximum(churn_k - pop.open_k - 1, 1))
    runoff_start = (churn_k - lead)[:, None]
    c = churn_k[:, None]
    in_runoff = (k >= runoff_start) & (k < c)
    after = k >= c
    progress = np.where(in_runoff, (k - runoff_start + 1) / (lead[:, None] + 1.0), 0.0)

    # Payroll months.
    employable = retail & ~np.isin(pop.occupation, (STUDENT, RETIRED))
    gain = employable & ~payroll0 & (rng.random(n) < 0.05)
    pay_start = np.where(payroll0, pop.open_k + 1, np.where(gain, rng.integers(1, K, n), NO_CHURN))
    pay_end = np.full(n, NO_CHURN)
    stop = np.where(silent, churn_k - 1, churn_k - lead + (rng.random(n) < 0.3))
    pay_end = np.where(churns, np.minimum(stop, churn_k), pay_end)
    loss = ~churns & (rng.random(n) < 0.05)
    pay_end = np.where(loss, rng.integers(tl.first_out - 6, K, n), pay_end)
    gap = ~churns & ~loss & (rng.random(n) < 0.04)
    gap_start = np.where(gap, rng.integers(tl.first_out - 3, K, n), NO_CHURN)[:, None]
    gap_end = gap_start + rng.integers(2, 5, n)[:, None]
    payroll = (
        (k >= pay_start[:, None])
        & (k < pay_end[:, None])
        & ~((k >= gap_start) & (k < gap_end))
        & (k > open_k)
    )

    # Engagement: month-to-month noise, occasional quiet spells, run-off and churn.
    eng = rng.lognormal(0, 0.22, (n, K))
    quiet = ~churns & (rng.random(n) < 0.12)
    q_start = np.where(quiet, rng.integers(tl.first_out, K, n), NO_CHURN)[:, None]
    q_len = rng.integers(1, 3, n)[:, None]
    eng *= np.where((k >= q_start) & (k < q_start + q_len), rng.uniform(0.3, 0.6, (n, 1)), 1.0)
    drop = np.where(silent, 0.15, 1.6)[:, None]
    eng *= np.where(in_runoff, np.maximum(1.0 - drop * progress, 0.05), 1.0)
    eng *= np.where(after, 0.03, 1.0)
    eng *= np.where(k == open_k, 0.5, 1.0) * exists
    eng *= 1.0 + 0.008 * (k - (K - 1))  # slowly rising activity

    # Deposit path: trend x seasonality x AR(1) noise x ramp-up x churn run-off x dips.
    corp = pop.corp[:, None]
    g = np.where(pop.corp, rng.normal(0.004, 0.006, n), rng.normal(0.003, 0.004, n))
    trend = np.exp(g[:, None] * (k - tl.first_out))
    amp = rng.uniform(0.5, 1.5, (n, 1))
    season = np.where(corp, seasonality(tl, True)[None, :], seasonality(tl, False)[None, :]) ** amp
    sigma = np.array([0.10, 0.07, 0.06, 0.13, 0.10])[pop.segment]
    shocks = rng.normal(0, 1, (n, K)) * sigma[:, None]
    noise = np.empty((n, K))
    noise[:, 0] = shocks[:, 0]
    for j in range(1, K):
        noise[:, j] = 0.7 * noise[:, j - 1] + shocks[:, j]
    ramp = np.where(exists, 1.0 - 0.6 * 0.5 ** np.maximum(k - open_k, 0), 0.0)
    factor = trend * season * np.exp(noise) * ramp

    # Run-off: slow at first, then the money goes (convex in the month of the run-off).
    final = np.where(silent, rng.uniform(0.5, 0.9, n), rng.uniform(0.08, 0.4, n))[:, None]
    step_of = (k - runoff_start + 1) / lead[:, None]
    factor *= np.where(in_runoff, final ** (step_of**2), 1.0)
    factor *= np.where(after, rng.uniform(0.001, 0.008, (n, 1)), 1.0)

    dip = retail & ~churns & (rng.random(n) < 0.05)
    d_start = np.where(dip, rng.integers(tl.first_out - 3, K, n), NO_CHURN)[:, None]
    d_len = rng.integers(1, 4, n)[:, None]
    factor *= np.where((k >= d_start) & (k < d_start + d_len), rng.uniform(0.1, 0.6, (n, 1)), 1.0)
    step = retail & ~churns & ~dip & (rng.random(n) < 0.02)
    s_start = np.where(step, rng.integers(tl.first_out - 3, K, n), NO_CHURN)[:, None]
    factor *= np.where(k >= s_start, rng.uniform(0.08, 0.5, (n, 1)), 1.0)
    lost = (k >= pay_end[:, None]) & ~churns[:, None] & payroll0[:, None]
    factor *= np.where(lost, 0.85, 1.0)

    return Behaviour(
        churn_k=churn_k,
        lead=lead,
        silent=silent,
        payroll=payroll,
        engagement=eng.astype(np.float32),
        deposit_factor=factor,
        hazard=hazard,
    )


def _calibrate(h: np.ndarray, target: float) -> float:
    """Intercept alpha with mean(sigmoid(alpha + h)) == target (bisection)."""
    if len(h) == 0:
        return 0.0
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _sigmoid(mid + h).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def end_holdings_at_churn(hold: Holdings, beh: Behaviour) -> None:
    """Churners close everything but the (now near-empty) current account and their loans."""
    churn = beh.churn_k[hold.cust]
    closes = (hold.product != CURRENT) & ~np.isin(hold.product, LOANS) & (churn < hold.end_k)
    hold.end_k = np.where(closes, np.maximum(churn, hold.start_k), hold.end_k)
