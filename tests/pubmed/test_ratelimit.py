"""The limiters never let more than N requests into any one-second window.

The Redis limiter is tested the way it is used: several OS processes hammering
one key on a real Redis; timestamps are recorded right after each grant and
checked with a sliding window.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.pubmed.ratelimit import (
    LocalRateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
)
from services.settings import Settings


def max_in_window(timestamps: list[float], window: float = 1.0) -> int:
    """Largest number of timestamps inside any half-open window [t, t + window)."""
    stamps = sorted(timestamps)
    best = 0
    start = 0
    for end, t in enumerate(stamps):
        while t - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_max_in_window_helper() -> None:
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([]) == 0


class FakeClock:
    """A clock that only moves when the limiter sleeps, for exact, instant checks."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_local_limiter_spaces_grants_with_injected_clock() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(3, clock=clock, sleep=clock.sleep)
    grants = []
    for _ in range(10):
        limiter.acquire()
        grants.append(clock.now)
    assert grants[0] == 100.0  # the first request goes at once
    assert max_in_window(grants) <= 3
    gaps = [b - a for a, b in zip(grants, grants[1:], strict=False)]
    assert min(gaps) == pytest.approx(1.05 / 3)


def test_local_limiter_rejects_nonsense_rates() -> None:
    with pytest.raises(ValueError):
        LocalRateLimiter(0)
    with pytest.raises(ValueError):
        LocalRateLimiter(float("nan"))


def test_local_limiter_threads_stay_under_three_per_second() -> None:
    limiter = LocalRateLimiter(3)
    stamps: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 1.2

    def hammer() -> None:
        while time.monotonic() < deadline:
            limiter.acquire()
            now = time.monotonic()
            with lock:
                stamps.append(now)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max_in_window(stamps) <= 3
    # And it is a limiter, not a stopper: the slots were actually used.
    assert len(stamps) >= 4


@pytest.fixture
def redis_client(redis_server: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_server)
    yield client
    client.close()


def _hammer_redis(url: str, key: str, rate: float, ready: Any, go: Any, out: Any) -> None:
    """Child process: once told to go, take grants for 1.5 s and report their wall-clock times."""
    import redis

    client = redis.Redis.from_url(url)
    limiter = RedisRateLimiter(client, rate, key=key)
    client.ping()  # connected before the clock starts
    stamps = []
    ready.put(True)
    go.wait(10)
    stop_at = time.time() + 1.5
    while time.time() < stop_at:
        limiter.acquire()
        stamps.append(time.time())
    client.close()
    out.put(stamps)


@pytest.mark.redis
def test_redis_limiter_holds_across_processes(redis_server: str) -> None:
    ctx = multiprocessing.get_context("spawn")  # no fork of a threaded test process
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    key = f"livescreen:test:{uuid.uuid4().hex}"
    procs = [
        ctx.Process(target=_hammer_redis, args=(redis_server, key, 10, ready, go, out))
        for _ in range(3)
    ]
    for proc in procs:
        proc.start()
    stamps: list[float] = []
    per_process = []
    try:
        for _ in procs:
            ready.get(timeout=15)
        go.set()  # all three start hammering at the same moment
        for _ in procs:
            got = out.get(timeout=10)
            per_process.append(len(got))
            stamps.extend(got)
    finally:
        go.set()
        for proc in procs:
            proc.join(timeout=10)
        for queue in (ready, out):
            queue.close()
            queue.join_thread()
    assert all(proc.exitcode == 0 for proc in procs)
    assert max_in_window(stamps) <= 10, sorted(stamps)
    # 1.5 s at ~9.5/s: the shared budget was used, and by more than one process.
    assert len(stamps) >= 11
    assert sum(1 for n in per_process if n > 0) >= 2


@pytest.mark.redis
def test_redis_limiter_is_shared_between_instances(redis_client: Any) -> None:
    key = f"livescreen:test:{uuid.uuid4().hex}"
    waits: list[float] = []
    first = RedisRateLimiter(redis_client, 2, key=key, sleep=waits.append)
    first.acquire()
    assert waits == []  # a fresh key: the first request goes at once
    recorded: list[float] = []

    def sleep_and_record(seconds: float) -> None:
        recorded.append(seconds)
        time.sleep(seconds)

    second = RedisRateLimiter(redis_client, 2, key=key, sleep=sleep_and_record)
    second.acquire()
    assert recorded, "the second limiter must wait for the slot the first one took"
    assert 0 < recorded[0] <= 1.05 / 2 + 0.01
    assert redis_client.pttl(key) > 0  # the key expires on its own


def test_build_rate_limiter_picks_by_broker(redis_server: str) -> None:
    import redis

    local = build_rate_limiter(Settings(broker_url=""))
    assert isinstance(local, LocalRateLimiter)
    assert local.rate_per_second == 3.0
    keyed = build_rate_limiter(Settings(broker_url="", ncbi_api_key="k"))
    assert isinstance(keyed, LocalRateLimiter) and keyed.rate_per_second == 10.0

    client = redis.Redis.from_url(redis_server)
    try:
        shared = build_rate_limiter(Settings(broker_url=redis_server), redis_client=client)
        assert isinstance(shared, RedisRateLimiter)
        assert shared.rate_per_second == 3.0
        built = build_rate_limiter(Settings(broker_url=redis_server, ncbi_api_key="k"))
        assert isinstance(built, RedisRateLimiter) and built.rate_per_second == 10.0
        built._redis.close()
    finally:
        client.close()
