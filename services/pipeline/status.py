"""Per-review status: what `livescreen status` prints and /healthz reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from services.db.models import Review, ReviewRecord, Sweep, utcnow
from services.protocols import Protocol

from .gaps import review_gaps

COMPLETED = ("succeeded", "succeeded_with_gaps")
NOT_HEALTHY = ("failed", "succeeded_with_gaps")


def sweep_summary(sweep: Sweep) -> dict[str, Any]:
    return {
        "id": sweep.id,
        "state": sweep.state,
        "full": sweep.full,
        "window": {"mindate": sweep.mindate, "maxdate": sweep.maxdate},
        "started_at": sweep.started_at.isoformat() if sweep.started_at else None,
        "finished_at": sweep.finished_at.isoformat() if sweep.finished_at else None,
        "counts": {
            "found": sweep.found,
            "fetched": sweep.fetched,
            "new": sweep.new,
            "updated": sweep.updated,
            "unchanged": sweep.unchanged,
            "deleted": sweep.deleted,
            "missing": sweep.missing,
            "quarantined": sweep.quarantined,
            "given_up": sweep.given_up,
            "recovered": sweep.recovered,
            "screened": sweep.screened,
            "unscreened": sweep.unscreened,
            "requests": sweep.requests,
        },
        "error": sweep.error,
        "screen_error": sweep.screen_error,
    }


def last_sweep(*, session: Session, review_id: int) -> Sweep | None:
    return session.exec(
        select(Sweep).where(Sweep.review_id == review_id).order_by(col(Sweep.id).desc()).limit(1)
    ).first()


def last_successful_sweep(*, session: Session, review_id: int) -> Sweep | None:
    """The sweep the next incremental one starts from; its gaps are carried by record_gaps."""
    return session.exec(
        select(Sweep)
        .where(Sweep.review_id == review_id, col(Sweep.state).in_(COMPLETED))
        .order_by(col(Sweep.id).desc())
        .limit(1)
    ).first()


def review_status(
    *, session: Session, protocols: Mapping[str, Protocol], now: datetime | None = None
) -> list[dict[str, Any]]:
    """One entry per configured review, including reviews never swept yet, with the living
    loop's state (last run of each step, deliveries, next sweep due)."""
    from services.pipeline.loop_status import loop_status

    now = now or utcnow()
    reviews = {r.slug: r for r in session.exec(select(Review)).all()}
    counts: dict[int, int] = {
        review_id: total
        for review_id, total in session.execute(
            sa.select(col(ReviewRecord.review_id), func.count()).group_by(
                col(ReviewRecord.review_id)
            )
        ).all()
    }
    out: list[dict[str, Any]] = []
    for slug in list(protocols) + [s for s in reviews if s not in protocols]:
        review = reviews.get(slug)
        sweep = last_sweep(session=session, review_id=review.id) if review and review.id else None
        out.append(
            {
                "slug": slug,
                "title": protocols[slug].title if slug in protocols else review.title,  # type: ignore[union-attr]
                "records": int(counts.get(review.id or 0, 0)) if review else 0,
                "last_sweep": sweep_summary(sweep) if sweep else None,
                **loop_status(
                    session=session,
                    review_id=review.id if review else None,
                    slug=slug,
                    protocol=protocols.get(slug),
                    now=now,
                ),
            }
        )
    return out


def last_finished_sweep(*, session: Session, review_id: int) -> Sweep | None:
    """The newest sweep that ended (a running one has nothing to report yet)."""
    return session.exec(
        select(Sweep)
        .where(Sweep.review_id == review_id, col(Sweep.finished_at).is_not(None))
        .order_by(col(Sweep.id).desc())
        .limit(1)
    ).first()


def sweep_health(*, session: Session, review_id: int) -> dict[str, Any]:
    """The last finished sweep and the current gaps of one review (the dashboard's panel)."""
    sweep = last_finished_sweep(session=session, review_id=review_id)
    return {
        "sweep": sweep_summary(sweep) if sweep else None,
        "gaps": review_gaps(session=session, review_id=review_id),
    }


def gaps_by_review(*, session: Session) -> dict[str, list[dict[str, Any]]]:
    """Each review's current gaps (missing and quarantined PMIDs with reasons), by slug."""
    return {
        review.slug: review_gaps(session=session, review_id=review.id)
        for review in session.exec(select(Review).order_by(col(Review.id)))
        if review.id is not None
    }


def health_reasons(*, session: Session) -> list[str]:
    """Why the reviews' data is not whole, one line per review; empty when it is.

    A review is unhealthy when its last finished sweep failed or ended with gaps
    (quarantined, missing or unscreened records), or while it still has gaps.
    """
    reasons: list[str] = []
    for review in session.exec(select(Review).order_by(col(Review.id))):
        assert review.id is not None
        sweep = last_finished_sweep(session=session, review_id=review.id)
        parts: list[str] = []
        if sweep is not None and sweep.state in NOT_HEALTHY:
            parts.append(f"last sweep {sweep.id} {sweep.state}")
            if sweep.error:
                parts.append(f"error: {sweep.error}")
            if sweep.unscreened:
                parts.append(f"{sweep.unscreened} unscreened")
            if sweep.screen_error:
                parts.append(f"screening: {sweep.screen_error}")
        gaps = review_gaps(session=session, review_id=review.id)
        if gaps:
            kinds: dict[str, int] = {}
            for gap in gaps:
                label = gap["kind"] + (" (given up)" if gap["state"] == "given_up" else "")
                kinds[label] = kinds.get(label, 0) + 1
            parts.append(", ".join(f"{n} {label}" for label, n in kinds.items()))
        if parts:
            reasons.append(f"{review.slug}: " + "; ".join(parts))
    return reasons
