"""Being a polite client: a gap between requests to one host, a rate per source, backoff on errors.

Government sites are often small servers; hammering one gets the commission's address blocked
and a feed missed. Everything here is thread-safe because the crawl service polls sources from
a pool of threads.
"""

from __future__ import annotations

import random
import threading
import time
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Callable

__all__ = ["Politeness", "backoff_delay", "parse_retry_after"]


class Politeness:
    """Reserve a time slot before each request.

    ``wait(host, source_id, per_minute)`` blocks until both the host's minimum gap
    (``host_delay_s`` since the previous request to that host, whatever the source) and the
    source's own rate (``per_minute``) allow a request, then books it. Returns seconds waited.
    """

    def __init__(self, host_delay_s: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.host_delay_s = host_delay_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_host: dict[str, float] = {}
        self._next_source: dict[str, float] = {}

    def wait(self, host: str, source_id: str | None, per_minute: float) -> float:
        """``source_id`` None: the host's gap only (robots.txt, which is the host's, not the
        source's: a first round does not spend two of a source's slots on one feed)."""
        with self._lock:  # book the slot under the lock, sleep outside it
            now = self._clock()
            start = max(now, self._next_host.get(host, now),
                        self._next_source.get(source_id, now) if source_id else now)
            self._next_host[host] = start + self.host_delay_s
            if source_id:
                self._next_source[source_id] = start + 60.0 / per_minute
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


def backoff_delay(errors: int, interval_s: float, cap_s: float = 6 * 3600.0,
                  rng: random.Random | None = None) -> float:
    """Seconds until the next attempt after ``errors`` consecutive failures.

    Exponential (``interval * 2**(errors-1)``, at most ``cap_s`` but never below the interval),
    with ±50 % jitter so that many sources failing together (a network outage) do not come back
    in lock step.
    """
    if errors <= 0:
        return interval_s
    base = min(max(cap_s, interval_s), interval_s * 2 ** min(errors - 1, 30))
    return base * (rng or random).uniform(0.5, 1.5)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
