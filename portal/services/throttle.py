"""Throttle failed log-ins per client address (SPEC §7.1), shared through the cache.

The per-account lock-out lives in accounts.authenticate; this adds the per-address limit, so
one machine cannot try many user names. Counts are kept in the app cache (Redis when
configured, so every web process sees the same count) in one-minute buckets; the current and
previous bucket together approximate a sliding minute.
"""

from __future__ import annotations

import time

from flask_babel import gettext as _

from portal.errors import TooManyAttempts

MAX_FAILURES_PER_MINUTE = 5
WINDOW_SECONDS = 60


class LoginThrottle:
    """Count failed log-ins per address and refuse an address over the limit."""

    def __init__(self, cache, limit: int = MAX_FAILURES_PER_MINUTE, clock=time.time):
        self.cache = cache
        self.limit = limit
        self.clock = clock

    def _keys(self, address: str) -> tuple[str, str]:
        bucket = int(self.clock() // WINDOW_SECONDS)
        return f"login-fail:{address}:{bucket}", f"login-fail:{address}:{bucket - 1}"

    def failures(self, address: str) -> int:
        current, previous = self._keys(address)
        return int(self.cache.get(current) or 0) + int(self.cache.get(previous) or 0)

    def check(self, address: str | None) -> None:
        """Raise TooManyAttempts when the address has failed too often in the last minute."""
        if address and self.failures(address) >= self.limit:
            raise TooManyAttempts(
                _("Too many failed log-ins from your address. Wait a minute and try again."),
                code="too_many_attempts",
            )

    def record_failure(self, address: str | None) -> None:
        if not address:
            return
        current, _previous = self._keys(address)
        try:
            value = self.cache.inc(current)
        except Exception:  # noqa: BLE001 - a cache without atomic increment
            value = None
        if value is None:
            self.cache.set(
                current, int(self.cache.get(current) or 0) + 1, timeout=2 * WINDOW_SECONDS
            )
        elif value == 1:
            self.cache.set(current, 1, timeout=2 * WINDOW_SECONDS)
