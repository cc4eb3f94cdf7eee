"""The jobs the scheduler and the Celery tasks run: each one plain function over a Runtime."""

from __future__ import annotations

import logging
from datetime import date

from classifiers.screen import Screener
from services.db.dialect import BULK_ROWS, refresh_statistics
from services.pipeline.screen import (
    ScreenLimits,
    ScreenOutcome,
    build_screener,
    count_unscreened,
    one_line,
    screen_pending,
)
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

    Failures are outcomes the sweep records, never crashes: a screener that cannot be
    built or a batch that fails leaves records unscreened, which the final pass counts
    (and tries once more), so the sweep row says what is left and why.
    """

    def __init__(self, runtime: Runtime, slug: str) -> None:
        self.runtime = runtime
        self.protocol = runtime.protocol(slug)
        self.screener: Screener | None = None
        self.screened = 0
        self.errors: list[str] = []

    def batch(self, record_ids: list[int]) -> None:
        if self.protocol.criteria and record_ids and not self.errors:
            self._run(record_ids)

    def finish(self) -> ScreenOutcome:
        if not self.protocol.criteria:
            return ScreenOutcome()
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

    def _run(self, record_ids: list[int] | None) -> int | None:
        """Screen; the count of unscreened records after a full pass, None on failure."""
        slug = self.protocol.slug
        try:
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
                    limits=ScreenLimits.from_settings(self.runtime.settings),
                )
        except Exception as exc:  # recorded on the sweep row; the sweep goes on
            reason = one_line(f"{exc.__class__.__name__}: {exc}")
            log.error("%s: screening failed: %s", slug, reason)
            self.errors.append(reason)
            return None
        self.screened += outcome.screened
        if outcome.error:
            log.warning("%s: %s", slug, outcome.error)
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
