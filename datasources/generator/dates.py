"""The generator's timeline: month-ends, calendar rows and seasonality.

Months are indexed k = 0..K-1, oldest first. The first `PRE_MONTHS` months are simulated
but not written (they warm up the balance paths and the quarterly / yearly averages); the
last `HISTORY_MONTHS` are the warehouse's history, and of those the last `TXN_MONTHS` carry
transactions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

HISTORY_MONTHS = 24
PRE_MONTHS = 12
TXN_MONTHS = 12

# Spring Festival (春节) dates; deposits peak in the month that holds it (year-end bonuses).
SPRING_FESTIVAL = {
    2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16",
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01",
    2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17",
    2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
    2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31", 2034: "2034-02-19",
    2035: "2035-02-08",
}  # fmt: skip


@dataclass(frozen=True)
class Timeline:
    as_of: datetime.date
    month_start: np.ndarray  # datetime64[D], first day of each month k
    month_end: np.ndarray  # datetime64[D], last day of each month k
    year: np.ndarray  # int per k
    month: np.ndarray  # int 1..12 per k
    days: np.ndarray  # days in month k

    @property
    def n_months(self) -> int:
        return len(self.month_end)

    @property
    def first_out(self) -> int:
        """Index of the first written month."""
        return self.n_months - HISTORY_MONTHS

    @property
    def first_txn(self) -> int:
        """Index of the first month with transactions."""
        return self.n_months - TXN_MONTHS

    def month_index(self, dates: np.ndarray) -> np.ndarray:
        """Month index k of each date (negative before the simulated range)."""
        months = dates.astype("datetime64[M]").astype(np.int64)
        return months - self.month_start[0].astype("datetime64[M]").astype(np.int64)

    def quarter_start(self) -> np.ndarray:
        """For each k, the index of the first month of its calendar quarter (may be < 0)."""
        k = np.arange(self.n_months)
        return k - (self.month - 1) % 3

    def year_start(self) -> np.ndarray:
        """For each k, the index of January of its calendar year (may be < 0)."""
        return np.arange(self.n_months) - (self.month - 1)


def build_timeline(as_of: datetime.date) -> Timeline:
    if (as_of + datetime.timedelta(days=1)).day != 1:
        raise ValueError(f"as_of must be a month-end, got {as_of.isoformat()}")
    n = PRE_MONTHS + HISTORY_MONTHS
    last = np.datetime64(as_of, "M")
    months = last - np.arange(n - 1, -1, -1)
    start = months.astype("datetime64[D]")
    end = (months + 1).astype("datetime64[D]") - 1
    m_int = months.astype(np.int64)
    return Timeline(
        as_of=as_of,
        month_start=start,
        month_end=end,
        year=(m_int // 12 + 1970).astype(np.int64),
        month=(m_int % 12 + 1).astype(np.int64),
        days=(end - start).astype(np.int64) + 1,
    )


def dim_date(tl: Timeline) -> dict[str, np.ndarray]:
    """Every day of the written history."""
    days = np.arange(tl.month_start[tl.first_out], tl.month_end[-1] + 1, dtype="datetime64[D]")
    months = days.astype("datetime64[M]").astype(np.int64)
    year = months // 12 + 1970
    month = months % 12 + 1
    day = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (days.astype(np.int64) + 3) % 7 + 1  # 1970-01-01 was a Thursday
    next_day = days + 1
    return {
        "date": days,
        "year": year,
        "quarter": (month - 1) // 3 + 1,
        "month": month,
        "day": day,
        "year_month": year * 100 + month,
        "weekday": weekday,
        "is_weekend": weekday >= 6,
        "is_month_end": next_day.astype("datetime64[M]") != days.astype("datetime64[M]"),
    }


def seasonality(tl: Timeline, corporate: bool) -> np.ndarray:
    """Multiplicative deposit seasonality per month k (mean about 1).

    Quarter-end months peak (banks chase period-end balances, 冲时点), December more so;
    retail deposits also peak in the Spring Festival month and ease the month after.
    """
    s = np.ones(tl.n_months)
    quarter_end = tl.month % 3 == 0
    s += np.where(quarter_end, 0.07 if corporate else 0.025, 0.0)
    s += np.where(tl.month == 12, 0.05 if corporate else 0.03, 0.0)
    sf_month = np.zeros(tl.n_months, dtype=bool)
    for k in range(tl.n_months):
        sf = SPRING_FESTIVAL.get(int(tl.year[k]))
        sf_m = int(sf[5:7]) if sf else 2
        sf_month[k] = tl.month[k] == sf_m
    after = np.roll(sf_month, 1)
    after[0] = False
    s += np.where(sf_month, 0.015 if corporate else 0.06, 0.0)
    s -= np.where(after, 0.0 if corporate else 0.025, 0.0)
    return s / s.mean()


def month_dates(tl: Timeline, k: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[D] for month index k and 1-based day (clipped to the month's length)."""
    day = np.minimum(day, tl.days[k])
    return tl.month_start[k] + (day - 1).astype("timedelta64[D]")


def any_month_dates(tl: Timeline, k: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Like month_dates, for any month index, also outside the simulated range."""
    months = tl.month_start[0].astype("datetime64[M]") + np.asarray(k, dtype=np.int64)
    start = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - start).astype(np.int64)
    return start + (np.minimum(day, length) - 1).astype("timedelta64[D]")
