"""Reporting periods relative to the warehouse's data date (数据日期).

A period is named (`this_month`, `last_month`, `this_quarter`, `last_quarter`, `ytd`,
`last_12_months`) or a date range `{"start": "2026-01-01", "end": "2026-06-30"}`. Each
resolves to its dates and to the previous period the change is measured against: the month or
quarter before, the same span of the previous year for year-to-date, and the equal-length span
just before for a range.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

NAMED_PERIODS = (
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "ytd",
    "last_12_months",
)
MAX_RANGE_DAYS = 3660


class PeriodError(ValueError):
    """The period is not one this module understands; the message says why."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    previous_start: date
    previous_end: date
    name: str

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "previous_start": self.previous_start.isoformat(),
            "previous_end": self.previous_end.isoformat(),
        }


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, months: int) -> date:
    """Return the first day of the month `months` after d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_ends_between(start: date, end: date) -> list[date]:
    """Return every month-end from start's month to end's month, inclusive."""
    out, current = [], start.replace(day=1)
    while current <= end:
        out.append(month_end(current))
        current = add_months(current, 1)
    return out


def last_month_end_on_or_before(d: date) -> date:
    return d if d == month_end(d) else add_months(d, 0) - timedelta(days=1)


def resolve_period(spec, as_of: date) -> Period:
    """Return the Period for a name or a {start, end} range, relative to `as_of`."""
    if spec is None or spec == "":
        spec = "this_month"
    if isinstance(spec, str):
        return _named(spec, as_of)
    if isinstance(spec, dict):
        return _range(spec)
    raise PeriodError(
        _("period must be one of %(names)s or {start, end}", names=", ".join(NAMED_PERIODS))
    )


def _named(name: str, as_of: date) -> Period:
    first = as_of.replace(day=1)
    if name == "this_month":
        prev = add_months(first, -1)
        return Period(first, as_of, prev, month_end(prev), name)
    if name == "last_month":
        start = add_months(first, -1)
        prev = add_months(first, -2)
        return Period(start, month_end(start), prev, month_end(prev), name)
    if name in ("this_quarter", "last_quarter"):
        q_start = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
        if name == "last_quarter":
            q_start = add_months(q_start, -3)
            end = month_end(add_months(q_start, 2))
        else:
            end = as_of
        prev = add_months(q_start, -3)
        return Period(q_start, end, prev, month_end(add_months(prev, 2)), name)
    if name == "ytd":
        start = date(as_of.year, 1, 1)
        prev_end = _same_day_last_year(as_of)
        return Period(start, as_of, date(as_of.year - 1, 1, 1), prev_end, name)
    if name == "last_12_months":
        start = add_months(first, -11)
        prev = add_months(start, -12)
        return Period(start, as_of, prev, start - timedelta(days=1), name)
    raise PeriodError(
        _(
            "unknown period %(name)s; use one of %(names)s or {start, end}",
            name=repr(name)[:40],
            names=", ".join(NAMED_PERIODS),
        )
    )


def _same_day_last_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _parse_date(value, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PeriodError(
            _(
                "period %(key)s %(value)s is not a date (YYYY-MM-DD)",
                key=key,
                value=repr(value)[:40],
            )
        ) from None


def _range(spec: dict) -> Period:
    if set(spec) - {"start", "end"} or not {"start", "end"} <= set(spec):
        raise PeriodError(_("a date-range period needs exactly 'start' and 'end'"))
    start, end = _parse_date(spec["start"], "start"), _parse_date(spec["end"], "end")
    if end < start:
        raise PeriodError(_("period end is before its start"))
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise PeriodError(_("period is longer than %(days)d days", days=MAX_RANGE_DAYS))
    prev_end = start - timedelta(days=1)
    return Period(start, end, prev_end - timedelta(days=days - 1), prev_end, "range")
