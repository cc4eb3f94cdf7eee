"""The jobs the scheduler and the Celery tasks run: each one plain function over a Runtime."""

from __future__ import annotations

import logging
from datetime import date

from services.pipeline.screen import (
    ScreenOutcome,
    build_screener,
    count_unscreened,
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
    """
    protocol = runtime.protocol(slug)
    limiter = limiter or build_rate_limiter(runtime.settings)
    with EutilsClient(runtime.settings, limiter=limiter) as client:
        return run_sweep(
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
            screen=lambda: screen_step(runtime, slug),
        )


def screen_review(runtime: Runtime, slug: str) -> int:
    """Screen the review's records not yet screened under the current protocol; returns how many."""
    return screen_step(runtime, slug, catch=False).screened


def screen_step(runtime: Runtime, slug: str, *, catch: bool = True) -> ScreenOutcome:
    """The screening step of a sweep: its failure is an outcome the sweep records, not a crash.

    A protocol that cannot build its screener (or a database error mid-way) leaves the
    stored records unscreened; the sweep row says so, and the next run screens them.
    """
    protocol = runtime.protocol(slug)
    if not protocol.criteria:
        return ScreenOutcome()
    try:
        screener = build_screener(protocol)
        with runtime.sessions() as session:
            review = ensure_review(session=session, protocol=protocol)
            session.commit()
            outcome = screen_pending(
                session=session, review=review, protocol=protocol, screener=screener
            )
    except Exception as exc:
        if not catch:
            raise
        reason = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
        log.error("%s: screening failed: %s", slug, reason)
        with runtime.sessions() as session:
            review = ensure_review(session=session, protocol=protocol)
            session.commit()
            unscreened = count_unscreened(session=session, review=review, protocol=protocol)
        return ScreenOutcome(unscreened=unscreened, error=reason)
    if outcome.screened:
        log.info("%s: screened %d records", slug, outcome.screened)
    if outcome.error:
        log.warning("%s: %s", slug, outcome.error)
    return outcome
