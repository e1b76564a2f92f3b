"""Numbers in 万/亿 for Chinese and with thousands separators for English."""

import pytest

from components.formatting import change_tone, format_change, format_value


@pytest.mark.parametrize(
    ("value", "fmt", "locale", "expected"),
    [
        (123_456_789_012.0, "currency", "zh_CN", "1,234.57亿元"),
        (45_678.0, "currency", "zh_CN", "4.57万元"),
        (999.0, "count", "zh_CN", "999"),
        (123_456_789_012.0, "currency", "en", "¥123.46 bn"),
        (4_567_890.0, "count", "en", "4.57 m"),
        (45_678.0, "count", "en", "45,678"),
        (0.01534, "percent", "en", "1.53%"),
        (None, "currency", "en", "—"),
        (float("nan"), "count", "zh_CN", "—"),
        (-2_500_000.0, "currency", "zh_CN", "-250.00万元"),
        (-1_170_000_000.0, "currency", "en", "-¥1.17 bn"),
    ],
)
def test_format_value(value, fmt, locale, expected):
    assert format_value(value, fmt, locale) == expected


def test_format_change_and_tone():
    assert format_change(10.0, 0.0123, "currency", "en") == "+1.2%"
    assert format_change(-0.0012, None, "percent", "en") == "-0.12 pp"
    assert format_change(0.0012, None, "percent", "zh_CN") == "+0.12个百分点"
    assert format_change(None, None, "count", "en") == "—"
    assert change_tone(5, True) == "good"
    assert change_tone(5, False) == "bad"
    assert change_tone(-5, False) == "good"
    assert change_tone(0, True) == "flat"


def test_times_are_shown_in_the_bank_s_time():
    from datetime import UTC, datetime

    from components.formatting import format_time

    assert format_time(datetime(2026, 12, 3, 16, 22, tzinfo=UTC)) == "2026-12-04 00:22"
    assert format_time(datetime(2026, 12, 3, 16, 22)) == "2026-12-04 00:22"  # naive is UTC
    assert format_time("2026-12-03T16:22:05+00:00") == "2026-12-04 00:22"
    assert format_time("2026-12-03T16:22:05") == "2026-12-04 00:22"
    assert format_time(None) == "" and format_time("") == ""
