"""E-banking usage per customer x channel x month (`fact_channel_usage`).

Mobile banking spreads over the history (penetration rises), online banking is used by
corporate customers and some retail ones, WeChat banking by a share of retail customers.
Logins follow engagement, so they fall during a churner's run-off and nearly stop after.
Only months with at least one login are written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from datasources.generator import text
from datasources.generator.behaviour import Behaviour
from datasources.generator.customers import Population
from datasources.generator.dates import Timeline

CHANNELS = ["mobile", "online", "wechat"]
# Share of customers using mobile banking at the first and the last written month.
MOBILE_START, MOBILE_END = 0.56, 0.78


def build_channel_usage(
    rng: np.random.Generator, pop: Population, beh: Behaviour, tl: Timeline
) -> dict:
    n, K = len(pop), tl.n_months
    months = np.arange(tl.first_out, K)
    T = len(months)
    corp = pop.corp

    # Mobile adoption: the digitally inclined first; the adopted share grows over time.
    z = np.log(pop.digital / (1 - pop.digital)) + rng.normal(0, 0.8, n)
    rank = np.empty(n)
    rank[np.argsort(-z, kind="stable")] = (np.arange(n) + 0.5) / n
    frac = (rank - MOBILE_START) / (MOBILE_END - MOBILE_START)
    adopt = np.where(rank < MOBILE_START, -1, tl.first_out + np.ceil(frac * (T - 1)).astype(int))
    adopt = np.where(rank > MOBILE_END, 10_000, adopt)
    adopt = np.where(corp & (rng.random(n) < 0.5), 10_000, adopt)
    adopt = np.maximum(adopt, pop.open_k)

    online = np.where(corp, rng.random(n) < 0.85, rng.random(n) < 0.12 + 0.2 * (pop.segment > 0))
    wechat = ~corp & (rng.random(n) < 0.2 + 0.25 * pop.digital)
    eng = beh.engagement[:, months].astype(float)
    k = months[None, :]
    lam = (
        np.stack(
            [
                (9.0 * (0.4 + pop.digital) * rng.lognormal(0, 0.5, n))[:, None]
                * (k >= adopt[:, None]),
                np.where(corp, 14.0, 3.0)[:, None] * online[:, None] * (k >= pop.open_k[:, None]),
                (4.0 * rng.lognormal(0, 0.5, n))[:, None]
                * wechat[:, None]
                * (k >= pop.open_k[:, None]),
            ]
        )
        * eng[None, :, :]
    )  # (3, n, T)
    logins = rng.poisson(lam)
    rate = np.array([0.55, 0.9, 0.15])[:, None, None]
    txns = rng.poisson(logins * rate)

    # Order rows by month, customer, channel.
    kr, cust, ch = np.nonzero(logins.transpose(2, 1, 0) > 0)
    return {
        "month_end": tl.month_end[months][kr],
        "customer_id": pop.customer_id[cust],
        "branch_id": text.pick(text.SUB_IDS, pop.sub[cust]),
        "channel": pa.DictionaryArray.from_arrays(pa.array(ch.astype(np.int8)), pa.array(CHANNELS)),
        "logins": logins[ch, cust, kr].astype(np.int64),
        "transactions": txns[ch, cust, kr].astype(np.int64),
    }
