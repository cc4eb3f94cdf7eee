"""The embedded scheduler: sweeps each review at start and then every ``schedule_hours``.

With a broker configured the same schedule is Celery beat's (workers/celery_app.py);
this one runs the jobs in-process for the no-services default.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from services.runtime import Runtime

log = logging.getLogger(__name__)
Job = Callable[[Runtime, str], object]


class EmbeddedScheduler:
    """One daemon thread; ``stop()`` returns promptly (a running sweep finishes its batch)."""

    def __init__(
        self,
        runtime: Runtime,
        job: Job,
        *,
        run_at_start: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.job = job
        self.run_at_start = run_at_start
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due_times(self) -> dict[str, float]:
        now = self.clock()
        return {
            slug: now if self.run_at_start else now + p.schedule_hours * 3600
            for slug, p in self.runtime.protocols.items()
        }

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="livescreen-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        due = self.due_times()
        while not self._stop.is_set():
            now = self.clock()
            for slug, when in sorted(due.items(), key=lambda item: item[1]):
                if when > now or self._stop.is_set():
                    continue
                self._run(slug)
                due[slug] = self.clock() + self.runtime.protocols[slug].schedule_hours * 3600
            wait = max(0.0, min(due.values(), default=now + 60) - self.clock())
            self._stop.wait(min(wait, 60.0))

    def _run(self, slug: str) -> None:
        try:
            self.job(self.runtime, slug)
        except Exception as exc:  # a failed sweep is recorded in its row; the service stays up
            log.error("scheduled sweep of %s failed: %s", slug, exc)


class Every:
    """A daemon thread calling ``job`` every ``seconds`` until stopped; a failure is logged."""

    def __init__(self, seconds: float, job: Callable[[], object], *, name: str) -> None:
        self.seconds = seconds
        self.job = job
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.job()
            except Exception as exc:  # the next round tries again; the service stays up
                log.error("%s failed: %s", self.name, exc)
