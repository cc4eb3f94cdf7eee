"""Request pacing for NCBI E-utilities, shared by every caller of the service.

NCBI allows 3 requests per second without an API key and 10 with one, counted
per key (or per IP) across *all* of our processes; exceeding it earns HTTP 429
and, if repeated, a block.  So the limit has to be enforced where all senders
meet: in-process for the embedded mode, in Redis when Celery workers share
the key.

Both limiters use the same rule, a "next allowed time" with no burst: a grant
at time ``t`` pushes the next permitted grant to ``t + interval`` where
``interval = (1 + safety) / rate``.  Any ``N + 1`` consecutive grants are then
at least ``N * interval >= 1 s`` apart, so no one-second window ever holds more
than ``N`` requests.  Spacing (rather than a burst of ``N`` followed by a
pause) also keeps the arrival times at NCBI under the limit when network
latency jitters, and the small ``safety`` margin absorbs the delay between a
grant and the moment the request actually leaves.

A grant is given only to the caller that asks when the slot is free (no
reservations of future slots): a reserved slot that is used late because its
process was descheduled could bunch up with later slots and break the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from services.settings import Settings

DEFAULT_SAFETY = 0.05
"""Fraction of an interval added to every gap; 5 % throughput for headroom against jitter."""

DEFAULT_REDIS_KEY = "livescreen:eutils"


class RateLimiter(Protocol):
    """Something that paces requests; ``acquire`` blocks until one request may go."""

    def acquire(self) -> None: ...


def _interval(rate_per_second: float, safety: float) -> float:
    """Seconds between two grants; validated here so both limiters reject nonsense alike."""
    if not (rate_per_second > 0 and math.isfinite(rate_per_second)):
        raise ValueError(f"rate_per_second must be a positive number, got {rate_per_second!r}")
    if safety < 0:
        raise ValueError(f"safety must be >= 0, got {safety!r}")
    return (1.0 + safety) / rate_per_second


class LocalRateLimiter:
    """Thread-safe limiter for one process (the embedded mode without a broker).

    ``clock`` and ``sleep`` are injectable so the pacing rule can be tested
    without waiting; the defaults are the monotonic clock and ``time.sleep``.
    """

    def __init__(
        self,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        safety: float = DEFAULT_SAFETY,
    ) -> None:
        self.rate_per_second = rate_per_second
        self.interval = _interval(rate_per_second, safety)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_allowed = -math.inf

    def acquire(self) -> None:
        """Wait until the next slot is free, then take it.

        The lock is held only to read and move the slot, never while sleeping,
        so waiting threads do not serialise behind a sleeper; a thread that
        loses the race simply waits for the new slot.
        """
        while True:
            with self._lock:
                now = self._clock()
                if now >= self._next_allowed:
                    self._next_allowed = now + self.interval
                    return
                wait = self._next_allowed - now
            self._sleep(wait)


# KEYS[1]: the slot key.  ARGV[1]: interval in microseconds.  ARGV[2]: key TTL in ms.
# Returns 0 when the caller may send now (and moves the slot), otherwise the number
# of microseconds to wait before asking again.  Redis TIME is the only clock used,
# so the clocks of the worker machines never matter.  Redis >= 5 replicates script
# effects, which is what makes calling TIME before a write legal.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= nxt then
  redis.call('SET', KEYS[1], string.format('%d', now + tonumber(ARGV[1])), 'PX', ARGV[2])
  return 0
end
return nxt - now
"""


class RedisRateLimiter:
    """Limiter shared by every process that talks to the same Redis key (Celery workers).

    One small Lua script reads Redis' clock, compares it with the stored next
    allowed time and moves it, atomically; callers that are too early are told
    how long to wait and ask again.
    """

    def __init__(
        self,
        redis_client: Any,
        rate_per_second: float,
        key: str = DEFAULT_REDIS_KEY,
        sleep: Callable[[float], None] = time.sleep,
        *,
        safety: float = DEFAULT_SAFETY,
    ) -> None:
        self.rate_per_second = rate_per_second
        self.interval = _interval(rate_per_second, safety)
        self.key = key
        self._redis = redis_client
        self._sleep = sleep
        self._interval_us = max(1, round(self.interval * 1_000_000))
        # The key only needs to outlive one interval; expiring it keeps Redis tidy.
        self._ttl_ms = max(1000, math.ceil(self.interval * 2000))
        self._script = redis_client.register_script(_ACQUIRE_LUA)

    def acquire(self) -> None:
        """Poll the shared slot until this process wins it."""
        while True:
            wait_us = int(self._script(keys=[self.key], args=[self._interval_us, self._ttl_ms]))
            if wait_us <= 0:
                return
            self._sleep(wait_us / 1_000_000)


def build_rate_limiter(settings: Settings, redis_client: Any | None = None) -> RateLimiter:
    """The limiter matching the deployment: Redis when the broker is Redis, else local.

    With a Redis broker several worker processes send requests, so only a
    limiter stored in Redis sees all of them.  The client is created from the
    broker URL when none is passed in (nothing is built at import time).
    """
    rate = settings.requests_per_second
    if settings.broker_url.startswith(("redis://", "rediss://")):
        if redis_client is None:
            import redis

            redis_client = redis.Redis.from_url(settings.broker_url)
        return RedisRateLimiter(redis_client, rate)
    return LocalRateLimiter(rate)
