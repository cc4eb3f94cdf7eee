"""The jobs the scheduler and the Celery tasks run: each one plain function over a Runtime."""

from __future__ import annotations

import logging
from datetime import date

from services.pipeline.screen import build_screener, screen_pending
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
    today: date | None = None,
    progress: Progress | None = None,
    limiter: RateLimiter | None = None,
) -> SweepResult:
    """Sweep one review, then screen what it stored (even after a failure: kept records count)."""
    protocol = runtime.protocol(slug)
    limiter = limiter or build_rate_limiter(runtime.settings)
    with EutilsClient(runtime.settings, limiter=limiter) as client:
        try:
            return run_sweep(
                sessions=runtime.sessions,
                client=client,
                protocol=protocol,
                settings=runtime.settings,
                full=full,
                mindate=mindate,
                maxdate=maxdate,
                today=today,
                progress=progress,
            )
        finally:
            screen_review(runtime, slug)


def screen_review(runtime: Runtime, slug: str) -> int:
    """Screen the review's records not yet screened under the current protocol; returns how many."""
    protocol = runtime.protocol(slug)
    if not protocol.criteria:
        return 0
    screener = build_screener(protocol)
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=protocol)
        session.commit()
        count = screen_pending(session=session, review=review, protocol=protocol, screener=screener)
    if count:
        log.info("%s: screened %d records", slug, count)
    return count
