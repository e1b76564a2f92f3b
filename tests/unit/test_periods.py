"""Reporting periods resolve relative to the data date, with the right previous period."""

from datetime import date

import pytest

from datasources.periods import PeriodError, month_ends_between, resolve_period

AS_OF = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("this_month", ("2026-11-01", "2026-11-30", "2026-10-01", "2026-10-31")),
        ("last_month", ("2026-10-01", "2026-10-31", "2026-09-01", "2026-09-30")),
        ("this_quarter", ("2026-10-01", "2026-11-30", "2026-07-01", "2026-09-30")),
        ("last_quarter", ("2026-07-01", "2026-09-30", "2026-04-01", "2026-06-30")),
        ("ytd", ("2026-01-01", "2026-11-30", "2025-01-01", "2025-11-30")),
        ("last_12_months", ("2025-12-01", "2026-11-30", "2024-12-01", "2025-11-30")),
        (
            {"start": "2026-03-01", "end": "2026-03-31"},
            ("2026-03-01", "2026-03-31", "2026-01-29", "2026-02-28"),
        ),
    ],
)
def test_periods(spec, expected):
    p = resolve_period(spec, AS_OF)
    assert (
        p.start.isoformat(),
        p.end.isoformat(),
        p.previous_start.isoformat(),
        p.previous_end.isoformat(),
    ) == expected


def test_year_to_date_on_leap_day():
    p = resolve_period("ytd", date(2028, 2, 29))
    assert p.previous_end == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("next_month", "unknown period"),
        ({"start": "2026-05-01"}, "exactly 'start' and 'end'"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "before its start"),
        ({"start": "yesterday", "end": "2026-04-01"}, "not a date"),
        ({"start": "1990-01-01", "end": "2026-04-01"}, "longer than"),
        (42, "period must be one of"),
    ],
)
def test_bad_periods_are_refused(spec, message):
    with pytest.raises(PeriodError, match=message):
        resolve_period(spec, AS_OF)


def test_month_ends_between():
    assert month_ends_between(date(2025, 12, 15), date(2026, 2, 1)) == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]
