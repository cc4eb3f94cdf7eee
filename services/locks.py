"""One sweep of a review at a time, across every process that shares the deployment.

Beat's minute tick checks that no sweep is running before it starts a review's chain,
but two ticks can still race (a chain queued behind a busy worker, a manual
``livescreen sweep`` beside the workers). The sweep step therefore holds a per-review
lock while it runs:

- with a Redis broker, a Redis key set with ``NX`` and a short expiry that a thread of
  the holder keeps extending; a worker killed with SIGKILL stops extending it, so the
  key lapses within one expiry and the redelivered task can take it;
- without one (the embedded default, one process), a lock in memory.

A step that finds the lock held raises :class:`ReviewLocked`, which the Celery tasks
retry (it is transient by nature), and which the in-process loop reports and skips.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from services.settings import Settings

LOCK_SECONDS = 60.0  # how long a holder that stopped extending keeps the lock
KEY_PREFIX = "livescreen:lock:sweep:"

# Release only our own token: a holder whose key lapsed must not delete a successor's.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class ReviewLocked(RuntimeError):
    """Another process is sweeping this review now; try again once it has finished."""


class Locks(Protocol):
    """Something that holds a named lock for a ``with`` block or raises ReviewLocked."""

    def hold(self, name: str) -> AbstractContextManager[None]: ...


class LocalLocks:
    """Locks of one process (the embedded default): a set of held names."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            if name in self._held:
                raise ReviewLocked(f"{name} is already being swept in this process")
            self._held.add(name)
        try:
            yield
        finally:
            with self._guard:
                self._held.discard(name)


class RedisLocks:
    """Locks in Redis shared by every worker; each lapses ``seconds`` after its holder dies."""

    def __init__(self, redis_client: Any, *, seconds: float = LOCK_SECONDS) -> None:
        self._redis = redis_client
        self._ms = int(seconds * 1000)
        self._release = redis_client.register_script(_RELEASE_LUA)
        self._extend = redis_client.register_script(_EXTEND_LUA)

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        key, token = KEY_PREFIX + name, uuid.uuid4().hex
        if not self._redis.set(key, token, nx=True, px=self._ms):
            left = self._redis.pttl(key)
            raise ReviewLocked(
                f"{name} is being swept by another worker (lock lapses in "
                f"{max(left, 0) / 1000:.0f} s at most)"
            )
        stop = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(key, token, stop), name=f"lock-{name}", daemon=True
        )
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join()
            self._release(keys=[key], args=[token])

    def _keep(self, key: str, token: str, stop: threading.Event) -> None:
        """Extend the key at a third of its expiry until told to stop."""
        while not stop.wait(self._ms / 3000):
            try:
                self._extend(keys=[key], args=[token, self._ms])
            except Exception:  # Redis briefly away: the next round tries again
                continue


def build_locks(settings: Settings, redis_client: Any | None = None) -> Locks:
    """Redis locks when the broker is Redis (several workers), else this process's own
    (built once per process with the runtime, so its threads share them)."""
    if settings.broker_url.startswith(("redis://", "rediss://")):
        if redis_client is None:
            import redis

            redis_client = redis.Redis.from_url(settings.broker_url)
        return RedisLocks(redis_client, seconds=settings.sweep_lock_seconds)
    return LocalLocks()
