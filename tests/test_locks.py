"""Two sweeps of one review never run at once, and a crashed holder cannot keep the lock.

The Redis locks are checked against the real Redis, with a holder in another process
killed by SIGKILL; the sweep itself refuses to start beside a running one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis

from services.locks import KEY_PREFIX, LocalLocks, RedisLocks, ReviewLocked
from services.pipeline.jobs import sweep_review
from services.runtime import build_runtime
from tests.eutils_server import FakeEutils, synthetic_record
from tests.pipeline.test_sweep import make_settings, write_protocol


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server)
    yield connection
    connection.close()


def name() -> str:
    return f"review-{uuid.uuid4().hex[:8]}"


@pytest.mark.redis
def test_a_second_worker_cannot_take_a_held_lock_until_it_is_released(
    client: redis.Redis,
) -> None:
    first, second, review = RedisLocks(client), RedisLocks(client), name()
    refused = pytest.raises(ReviewLocked, match=f"{review} is being swept by another worker")
    with first.hold(review), refused, second.hold(review):
        pass
    with second.hold(review):  # released: free again
        pass
    assert client.get(KEY_PREFIX + review) is None


@pytest.mark.redis
def test_a_live_holder_keeps_its_lock_beyond_the_expiry(client: redis.Redis) -> None:
    review = name()
    with RedisLocks(client, seconds=0.6).hold(review):
        time.sleep(1.5)  # well past 0.6 s: only the holder's extensions keep the key
        with pytest.raises(ReviewLocked), RedisLocks(client).hold(review):
            pass


@pytest.mark.redis
def test_a_holder_killed_with_sigkill_loses_the_lock_within_its_expiry(
    client: redis.Redis, redis_server: str
) -> None:
    review = name()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, redis\n"
            "from services.locks import RedisLocks\n"
            f"locks = RedisLocks(redis.Redis.from_url({redis_server!r}), seconds=1.0)\n"
            f"with locks.hold({review!r}):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with pytest.raises(ReviewLocked), RedisLocks(client).hold(review):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 5
        while client.exists(KEY_PREFIX + review) and time.monotonic() < deadline:
            time.sleep(0.05)
        with RedisLocks(client).hold(review):  # the dead holder's key has lapsed
            pass
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


@pytest.mark.redis
def test_a_holder_whose_key_lapsed_does_not_release_its_successors_lock(
    client: redis.Redis,
) -> None:
    review = name()
    stale = RedisLocks(client, seconds=30)
    with stale.hold(review):
        client.delete(KEY_PREFIX + review)  # as if it had lapsed while the holder stalled
        client.set(KEY_PREFIX + review, "successor", px=30_000)
    assert client.get(KEY_PREFIX + review) == b"successor"
    client.delete(KEY_PREFIX + review)


def test_in_process_locks_refuse_a_second_sweep_of_the_same_review_only() -> None:
    locks = LocalLocks()
    with locks.hold("a"):
        with pytest.raises(ReviewLocked, match="a is already being swept"), locks.hold("a"):
            pass
        with locks.hold("b"):
            pass
    with locks.hold("a"):
        pass


def test_a_sweep_refuses_to_start_while_the_review_is_being_swept(
    database_url: str, tmp_path: Path
) -> None:
    with FakeEutils([synthetic_record("41000001", edat=date(2026, 3, 1))]) as fake:
        runtime = build_runtime(make_settings(database_url, fake, write_protocol(tmp_path)))
        try:
            slug = next(iter(runtime.protocols))
            with runtime.locks.hold(slug):
                with pytest.raises(ReviewLocked):
                    sweep_review(runtime, slug)
                assert fake.requests == []  # nothing asked of PubMed
            result = sweep_review(runtime, slug)  # once free, the sweep runs
            assert result.state == "succeeded"
        finally:
            runtime.close()
