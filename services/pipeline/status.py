"""Per-review status: what `livescreen status` prints and /healthz reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from services.db.models import Review, ReviewRecord, Sweep
from services.protocols import Protocol


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
            "requests": sweep.requests,
        },
        "error": sweep.error,
    }


def last_sweep(*, session: Session, review_id: int) -> Sweep | None:
    return session.exec(
        select(Sweep).where(Sweep.review_id == review_id).order_by(col(Sweep.id).desc()).limit(1)
    ).first()


def last_successful_sweep(*, session: Session, review_id: int) -> Sweep | None:
    return session.exec(
        select(Sweep)
        .where(Sweep.review_id == review_id, Sweep.state == "succeeded")
        .order_by(col(Sweep.id).desc())
        .limit(1)
    ).first()


def review_status(*, session: Session, protocols: Mapping[str, Protocol]) -> list[dict[str, Any]]:
    """One entry per configured review, including reviews never swept yet."""
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
            }
        )
    return out
