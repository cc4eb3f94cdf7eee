"""When each review is due for its next sweep, read from the database, not from memory.

A review is due when it was never swept successfully, or when its schedule (every
``schedule_hours``, or the protocol's cron expression) has come round since its last
successful sweep. Both the embedded scheduler and Celery beat ask this every minute,
so a fresh deployment sweeps at once instead of a period later, a restart of either
forgets nothing, and a missed run is caught up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.dialect import aware
from services.db.models import Review, Sweep, utcnow
from services.pipeline.status import COMPLETED
from services.protocols import Protocol
from services.runtime import Runtime

STALE_RUN = timedelta(minutes=10)  # a "running" sweep silent this long has died


def next_due(protocol: Protocol, last_success: datetime | None, now: datetime) -> datetime:
    """When the review should next be swept (``now`` if it never was)."""
    if last_success is None:
        return now
    if protocol.schedule:
        from croniter import croniter

        return aware(croniter(protocol.schedule, aware(last_success)).get_next(datetime))
    return aware(last_success) + timedelta(hours=protocol.schedule_hours)


def last_success(*, session: Session, slug: str) -> datetime | None:
    return session.execute(
        sa.select(sa.func.max(col(Sweep.finished_at)))
        .join(Review, col(Review.id) == col(Sweep.review_id))
        .where(col(Review.slug) == slug, col(Sweep.state).in_(COMPLETED))
    ).scalar()


def running(*, session: Session, slug: str, now: datetime) -> bool:
    """A sweep of the review is under way (its heartbeat is recent)."""
    return bool(
        session.execute(
            sa.select(sa.func.count())
            .select_from(Sweep)
            .join(Review, col(Review.id) == col(Sweep.review_id))
            .where(
                col(Review.slug) == slug,
                col(Sweep.state) == "running",
                col(Sweep.heartbeat_at) > now - STALE_RUN,
            )
        ).scalar()
    )


def due_reviews(runtime: Runtime, now: datetime | None = None) -> list[str]:
    """Slugs of the reviews whose next sweep is due and that are not being swept now."""
    now = now or utcnow()
    due = []
    with runtime.sessions() as session:
        for slug, protocol in runtime.protocols.items():
            if running(session=session, slug=slug, now=now):
                continue
            if next_due(protocol, last_success(session=session, slug=slug), now) <= now:
                due.append(slug)
    return due


def next_sweeps(runtime: Runtime, now: datetime | None = None) -> dict[str, datetime]:
    """When each review is next due, for ``livescreen status`` and the dashboard."""
    now = now or utcnow()
    with runtime.sessions() as session:
        return {
            slug: next_due(protocol, last_success(session=session, slug=slug), now)
            for slug, protocol in runtime.protocols.items()
        }
