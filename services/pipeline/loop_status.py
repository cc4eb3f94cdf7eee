"""The living loop's state per review: the last run of each step, the deliveries waiting or
given up, and when the next sweep is due. `livescreen status` prints it and /healthz
carries it, so a stalled step or a webhook that keeps failing is seen, not guessed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.alerts import Alert, Delivery, EmptyDigest, Subscription
from services.db.runs import STEPS, StepRun
from services.pipeline.schedule import last_success, next_due
from services.protocols import Protocol


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def step_summary(run: StepRun) -> dict[str, Any]:
    return {
        "state": run.state,
        "attempt": run.attempt,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "detail": run.detail,
        "error": run.error,
    }


def last_step_runs(*, session: Session, review_id: int) -> dict[str, dict[str, Any]]:
    """The newest run of each step that ever ran, in the chain's order."""
    newest = (
        sa.select(sa.func.max(col(StepRun.id)))
        .where(col(StepRun.review_id) == review_id)
        .group_by(col(StepRun.step))
    )
    runs = {
        run.step: run
        for run in session.exec(sa.select(StepRun).where(col(StepRun.id).in_(newest))).scalars()  # type: ignore[call-overload]
    }
    return {step: step_summary(runs[step]) for step in STEPS if step in runs}


def delivery_counts(*, session: Session, review_id: int) -> dict[str, Any]:
    """Deliveries of the review's alerts and its "nothing new" digests by state, and the
    newest error of a failed delivery."""
    by_state = dict(
        session.execute(
            sa.select(col(Delivery.state), sa.func.count())
            .join(Alert, col(Alert.id) == col(Delivery.alert_id))
            .where(col(Alert.review_id) == review_id)
            .group_by(col(Delivery.state))
        ).all()
    )
    for state, count in session.execute(
        sa.select(col(EmptyDigest.state), sa.func.count())
        .join(Subscription, col(Subscription.id) == col(EmptyDigest.subscription_id))
        .where(col(Subscription.review_id) == review_id)
        .group_by(col(EmptyDigest.state))
    ).all():
        by_state[state] = by_state.get(state, 0) + count  # "nothing new" digests count too
    last_error = session.execute(
        sa.select(col(Delivery.last_error))
        .join(Alert, col(Alert.id) == col(Delivery.alert_id))
        .where(col(Alert.review_id) == review_id, col(Delivery.last_error) != "")
        .order_by(col(Delivery.id).desc())
        .limit(1)
    ).scalar()
    return {
        "pending": int(by_state.get("pending", 0)) + int(by_state.get("sending", 0)),
        "failed": int(by_state.get("failed", 0)),
        "delivered": int(by_state.get("delivered", 0)),
        "last_error": last_error or None,
    }


def loop_status(
    *, session: Session, review_id: int | None, slug: str, protocol: Protocol | None, now: datetime
) -> dict[str, Any]:
    """Steps, deliveries and the next due sweep of one review (``None`` fields when unknown)."""
    due = None
    if protocol is not None:
        due = next_due(protocol, last_success(session=session, slug=slug), now)
    from services.reviewing.learned import latest_run, stopping_summary

    if review_id is None:
        steps: dict[str, Any] = {}
        deliveries = {"pending": 0, "failed": 0, "delivered": 0, "last_error": None}
        ranking = stopping_summary(None)
    else:
        steps = last_step_runs(session=session, review_id=review_id)
        deliveries = delivery_counts(session=session, review_id=review_id)
        ranking = stopping_summary(latest_run(session=session, review_id=review_id))
    return {
        "steps": steps,
        "deliveries": deliveries,
        "next_sweep_due": _iso(due),
        "ranking": ranking,
    }
