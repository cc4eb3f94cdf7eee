"""The jobs the scheduler and the Celery tasks run: each one plain function over a Runtime."""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from datetime import date

from classifiers.screen import Screener
from services.db.dialect import BULK_ROWS, refresh_statistics
from services.pipeline.screen import (
    PendingRow,
    ScreenLimits,
    ScreenOutcome,
    Verdicts,
    build_screener,
    count_unscreened,
    one_line,
    pending_for,
    problems_summary,
    screen_pending,
    store_verdicts,
)
from services.pipeline.screen_process import ScreeningProcess, may_use_a_process
from services.pipeline.store import ensure_review
from services.pipeline.sweep import Progress, SweepResult, run_sweep
from services.pubmed.client import EutilsClient
from services.pubmed.ratelimit import RateLimiter, build_rate_limiter
from services.runtime import Runtime

log = logging.getLogger(__name__)


def sweep_review(
    runtime: Runtime,
    slug: str,
    *,
    full: bool = False,
    mindate: str | None = None,
    maxdate: str | None = None,
    retry_gaps: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
    limiter: RateLimiter | None = None,
) -> SweepResult:
    """Sweep one review, then screen what it stored (even after a failure: kept records count).

    The screening outcome goes on the sweep's row, so a sweep whose records could not
    be screened ends ``succeeded_with_gaps`` with the reason instead of ``succeeded``.
    The review's lock is held throughout: a second sweep of it, from any process,
    raises :class:`~services.locks.ReviewLocked` instead of running beside this one.
    """
    protocol = runtime.protocol(slug)
    limiter = limiter or build_rate_limiter(runtime.settings)
    with runtime.locks.hold(slug), EutilsClient(runtime.settings, limiter=limiter) as client:
        result = run_sweep(
            sessions=runtime.sessions,
            client=client,
            protocol=protocol,
            settings=runtime.settings,
            full=full,
            mindate=mindate,
            maxdate=maxdate,
            retry_gaps=retry_gaps,
            today=today,
            progress=progress,
            screen=SweepScreening(runtime, slug),
        )
    if result.counts.get("new", 0) + result.counts.get("updated", 0) >= BULK_ROWS:
        with runtime.sessions() as session:
            refresh_statistics(session)
    return result


class SweepScreening:
    """A sweep's screening: each batch as it is stored (overlapping the fetching), then the rest.

    From the first batch of ``PROCESS_FROM`` records on, batches are screened in a child
    process (``services.pipeline.screen_process``) while this process goes on parsing and
    storing; the verdicts are written here as they come back, at most ``IN_FLIGHT``
    batches behind. Failures are outcomes the sweep records, never crashes: a screener
    that cannot be built, a batch that fails or a child that dies leaves records
    unscreened, which the final pass (in this process) screens or counts, so the sweep
    row says what is left and why.
    """

    PROCESS_FROM = 200  # a batch this large pays for starting a process (about a second)
    IN_FLIGHT = 2

    def __init__(self, runtime: Runtime, slug: str) -> None:
        self.runtime = runtime
        self.protocol = runtime.protocol(slug)
        self.screener: Screener | None = None
        self.screened = 0
        self.in_child = 0  # of which screened in the child process
        self.errors: list[str] = []
        self.limits = ScreenLimits.from_settings(runtime.settings)
        self.process: ScreeningProcess | None = None
        self.use_process = may_use_a_process(runtime.settings.screen_process)
        self.in_flight: deque[tuple[Future[list[Verdicts]], list[PendingRow]]] = deque()

    def batch(self, record_ids: list[int]) -> None:
        if not (self.protocol.criteria and record_ids and not self.errors):
            return
        if self.process is None and self.use_process and len(record_ids) >= self.PROCESS_FROM:
            try:
                self.process = ScreeningProcess(self.protocol)
            except Exception as exc:  # no process to be had: screen here, as before
                log.warning("%s: screening in-process: %s", self.protocol.slug, exc)
                self.use_process = False
        if self.process is None:
            self._run(record_ids)
            return
        try:
            with self.runtime.sessions() as session:
                review = ensure_review(session=session, protocol=self.protocol)
                session.commit()
                rows = pending_for(
                    session=session, review=review, protocol=self.protocol, record_ids=record_ids
                )
            if rows:
                self.in_flight.append(
                    (self.process.submit([r[3] for r in rows], self.limits), rows)
                )
            self._collect(keep=self.IN_FLIGHT)
        except Exception as exc:  # recorded on the sweep row; the final pass retries
            self._failed(exc)

    def finish(self) -> ScreenOutcome:
        if not self.protocol.criteria:
            return ScreenOutcome()
        try:
            self._collect(keep=0)
        except Exception as exc:
            self._failed(exc)
        finally:
            if self.process is not None:
                self.process.close()
                self.process = None
        self.in_flight.clear()
        unscreened = self._run(None)
        if unscreened is None:  # the final pass failed: count what it left
            with self.runtime.sessions() as session:
                review = ensure_review(session=session, protocol=self.protocol)
                session.commit()
                unscreened = count_unscreened(
                    session=session, review=review, protocol=self.protocol
                )
        error = "; ".join(dict.fromkeys(self.errors)) or None
        return ScreenOutcome(screened=self.screened, unscreened=unscreened, error=error)

    def _collect(self, *, keep: int) -> None:
        """Write the verdicts of finished batches, waiting for the oldest while more than
        ``keep`` are in flight."""
        while self.in_flight and (len(self.in_flight) > keep or self.in_flight[0][0].done()):
            future, rows = self.in_flight.popleft()
            verdicts = future.result()
            with self.runtime.sessions() as session:
                review = ensure_review(session=session, protocol=self.protocol)
                assert review.id is not None
                problems = store_verdicts(
                    session=session,
                    review_id=review.id,
                    version=self.protocol.version,
                    rows=rows,
                    verdicts=verdicts,
                )
                session.commit()
            self.screened += len(rows)
            self.in_child += len(rows)
            if problems:
                summary = problems_summary(problems) or ""
                log.warning("%s: %s", self.protocol.slug, summary)
                self.errors.append(summary)

    def _failed(self, exc: Exception) -> None:
        reason = one_line(f"{exc.__class__.__name__}: {exc}")
        log.error("%s: screening failed: %s", self.protocol.slug, reason)
        self.errors.append(reason)

    def _left(self) -> int:
        """How many of the review's records still want a screening under the protocol."""
        with self.runtime.sessions() as session:
            review = ensure_review(session=session, protocol=self.protocol)
            session.commit()
            return count_unscreened(session=session, review=review, protocol=self.protocol)

    def _run(self, record_ids: list[int] | None) -> int | None:
        """Screen here; the count of unscreened records after a full pass, None on failure."""
        try:
            if record_ids is None and self.screener is None and not self._left():
                return 0  # the child screened everything: no screener to build (about 1 s)
            if self.screener is None:
                self.screener = build_screener(self.protocol)
            with self.runtime.sessions() as session:
                review = ensure_review(session=session, protocol=self.protocol)
                session.commit()
                outcome = screen_pending(
                    session=session,
                    review=review,
                    protocol=self.protocol,
                    screener=self.screener,
                    record_ids=record_ids,
                    limits=self.limits,
                )
        except Exception as exc:  # recorded on the sweep row; the sweep goes on
            self._failed(exc)
            return None
        self.screened += outcome.screened
        if outcome.error:
            log.warning("%s: %s", self.protocol.slug, outcome.error)
            self.errors.append(outcome.error)
        return outcome.unscreened


def screen_review(runtime: Runtime, slug: str) -> int:
    """Screen the review's records not yet screened under the current protocol; returns how many.

    The Celery task's entry point: here a failure raises, for the task's own record.
    """
    protocol = runtime.protocol(slug)
    if not protocol.criteria:
        return 0
    screener = build_screener(protocol)
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=protocol)
        session.commit()
        outcome = screen_pending(
            session=session,
            review=review,
            protocol=protocol,
            screener=screener,
            limits=ScreenLimits.from_settings(runtime.settings),
        )
    if outcome.screened:
        log.info("%s: screened %d records", slug, outcome.screened)
    return outcome.screened
