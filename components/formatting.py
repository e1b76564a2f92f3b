"""Format numbers for people: 万/亿 in Chinese, thousands separators in English (SPEC §7.5)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Times are stored in UTC and shown in the bank's time (China Standard Time).
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_english(locale: str | None) -> bool:
    return (locale or "").startswith("en")


def compact_number(value: float, locale: str | None, digits: int = 2) -> str:
    """Return 1.23亿 / 4,567.8万 in Chinese, 1.23 bn / 4.57 m / 12,345 in English."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if is_english(locale):
        for limit, suffix in ((1e9, " bn"), (1e6, " m")):
            if v >= limit:
                return f"{sign}{v / limit:,.{digits}f}{suffix}"
        return f"{sign}{v:,.0f}"
    for limit, suffix in ((1e8, "亿"), (1e4, "万")):
        if v >= limit:
            return f"{sign}{v / limit:,.{digits}f}{suffix}"
    return f"{sign}{v:,.0f}"


def format_value(value, fmt: str, locale: str | None, unit: str = "") -> str:
    """Format a metric value by its catalog format: currency, count, number or percent."""
    if _is_missing(value):
        return "—"
    if fmt == "percent":
        return f"{value * 100:.2f}%"
    text = compact_number(float(value), locale)
    if fmt == "currency":
        if not is_english(locale):
            return f"{text}元"
        return f"-¥{text[1:]}" if text.startswith("-") else f"¥{text}"
    return text


def format_change(change, change_pct, fmt: str, locale: str | None) -> str:
    """Format the change against the previous period: +1.23% or, for ratios, +0.12 pp."""
    if fmt == "percent":
        if _is_missing(change):
            return "—"
        points = change * 100
        return f"{points:+.2f} pp" if is_english(locale) else f"{points:+.2f}个百分点"
    if _is_missing(change_pct):
        return "—"
    return f"{change_pct * 100:+.1f}%"


def change_tone(change, higher_is_better: bool) -> str:
    """Return 'good', 'bad' or 'flat' for colouring a change."""
    if _is_missing(change) or abs(change) < 1e-12:
        return "flat"
    return "good" if (change > 0) == higher_is_better else "bad"


def format_time(value: datetime | str | None) -> str:
    """Return a stored UTC time (a datetime or ISO text; naive means UTC) as local
    'YYYY-MM-DD HH:MM', the way every page shows an absolute time."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
