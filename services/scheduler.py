"""The embedded scheduler: every minute, sweeps the reviews that are due (no services needed).

Which reviews are due is read from the database (services.pipeline.schedule), the same
rule Celery beat's ``due-sweeps`` entry follows with a broker, so a fresh start sweeps
a never-swept review at once and a restart forgets nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from services.runtime import Runtime

log = logging.getLogger(__name__)
Job = Callable[[Runtime, str], object]
CHECK_EVERY = 60.0


class EmbeddedScheduler:
    """One daemon thread; ``stop()`` returns promptly (a running sweep finishes its batch).

    ``run_at_start`` False waits one check interval before the first look (``livescreen
    run --no-initial-sweep``).
    """

    def __init__(
        self,
        runtime: Runtime,
        job: Job,
        *,
        run_at_start: bool = True,
        check_every: float = CHECK_EVERY,
        due: Callable[[Runtime], list[str]] | None = None,
    ) -> None:
        from services.pipeline.schedule import due_reviews

        self.runtime = runtime
        self.job = job
        self.run_at_start = run_at_start
        self.check_every = check_every
        self.due = due or due_reviews
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="livescreen-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        if not self.run_at_start and self._stop.wait(self.check_every):
            return
        while not self._stop.is_set():
            try:
                slugs = self.due(self.runtime)
            except Exception as exc:  # the database briefly away: look again next round
                log.error("checking which reviews are due failed: %s", exc)
                slugs = []
            for slug in slugs:
                if self._stop.is_set():
                    return
                self._run(slug)
            self._stop.wait(self.check_every)

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
