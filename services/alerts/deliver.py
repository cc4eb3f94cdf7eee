"""Delivering the outbox: due deliveries are leased, sent through their channel, and settled.

Leases (``services.alerts.lease``) make each delivery sent by one worker at a time; a
worker killed mid-send leaves a lease that lapses, and the delivery is sent again with
the same ``X-Livescreen-Delivery`` key (a receiver that has seen the key drops the
repeat). An e-mail subscription's due deliveries go out as one digest, and its empty
digests (``services.alerts.digests``) in the same pass.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from classifiers.types import CriterionResult, Evidence
from services.alerts.digests import send_empty_digests, send_subscription_digest
from services.alerts.lease import attempt_of, due_clause, lease_of, settle, settle_many, take
from services.alerts.outcome import DeliveryReport
from services.alerts.payload import AlertPayload, link_base, record_url
from services.alerts.webhook import deliver_webhook
from services.db.alerts import Alert, Delivery, Subscription
from services.db.dialect import aware
from services.db.models import Record, Review, utcnow
from services.records import Record as ParsedRecord
from services.settings import Settings

log = logging.getLogger(__name__)


def criterion_from_json(data: dict[str, Any]) -> CriterionResult:
    """A stored criterion verdict back as the classifier's result type."""
    evidence = [
        Evidence(str(e["field"]), int(e["start"]), int(e["end"]), str(e["text"]))
        for e in data.get("evidence") or []
    ]
    return CriterionResult(
        verdict=data.get("verdict", "unclear"),
        confidence=float(data.get("confidence") or 0.0),
        evidence=evidence,
        reason=str(data.get("reason") or ""),
    )


def payload_of(alert: Alert, record: Record, review: Review, base_url: str) -> AlertPayload:
    """The channels' view of an outbox row."""
    assert alert.id is not None and record.id is not None
    return AlertPayload(
        alert_id=str(alert.id),
        event=alert.event,  # type: ignore[arg-type]
        review_slug=review.slug,
        record_id=record.id,
        record=ParsedRecord.from_json(record.data or {}).to_export(),
        record_url=record_url(base_url, review.slug, record.id),
        decision=alert.decision,
        p_include=alert.p_include,
        criteria={k: criterion_from_json(v) for k, v in (alert.criteria or {}).items()},
        raised_at=aware(alert.created_at),
        note=alert.note,
    )


def deliver_due(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    review_id: int | None = None,
    now: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
    limit: int = 500,
) -> DeliveryReport:
    """Send every due delivery (of one review, or all); one failing receiver never stops the
    rest. Safe to run in several workers at once and to run again after a crash.

    Webhooks go one request per delivery, at most ``limit`` per pass; an e-mail
    subscription's due deliveries all go in one digest, however many a sweep raised."""
    rng = rng or random.Random()
    report = DeliveryReport()
    with sessions() as session:
        due = (
            sa.select(col(Delivery.id), col(Subscription.id))
            .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
            .where(due_clause(Delivery, now()))
        )
        if review_id is not None:
            due = due.where(col(Subscription.review_id) == review_id)
        hooks = session.execute(
            due.where(col(Subscription.channel) != "email").order_by(col(Delivery.id)).limit(limit)
        ).all()
        mailed = session.execute(
            sa.select(due.where(col(Subscription.channel) == "email").subquery().c[1]).distinct()
        ).scalars()
        work: list[tuple[int, int | None]] = [(sid, None) for sid in sorted(mailed)]
        work += [(sid, delivery_id) for delivery_id, sid in hooks]
    for subscription_id, delivery_id in work:
        try:
            if delivery_id is None:
                _send_digest(sessions, settings, subscription_id, now, rng, report)
            else:
                _send_webhook(sessions, settings, delivery_id, now, rng, report)
        except Exception as exc:  # a bug or a lost database: the next pass tries again
            log.exception("delivering to subscription %s failed", subscription_id)
            report.errors.append(f"subscription {subscription_id}: {exc}")
    send_empty_digests(
        sessions=sessions, settings=settings, review_id=review_id, now=now, rng=rng, report=report
    )
    return report


def _rows(
    session: Session, delivery_ids: list[int]
) -> list[tuple[Delivery, Alert, Record, Review, Subscription]]:
    return [
        (d, a, r, v, s)
        for d, a, r, v, s in session.execute(
            sa.select(Delivery, Alert, Record, Review, Subscription)
            .join(Alert, col(Alert.id) == col(Delivery.alert_id))
            .join(Record, col(Record.id) == col(Alert.record_id))
            .join(Review, col(Review.id) == col(Alert.review_id))
            .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
            .where(col(Delivery.id).in_(delivery_ids))
            .order_by(col(Delivery.id))
        ).all()
    ]


def _send_webhook(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery_id: int,
    now: Callable[[], datetime],
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    with sessions() as session:
        if not take(session, Delivery, [delivery_id], now(), lease_of(settings)):
            return  # another worker has it, or it is done
        session.commit()
        ((delivery, alert, record, review, subscription),) = _rows(session, [delivery_id])
        payload = payload_of(alert, record, review, link_base(settings))
        moment = now()
        outcome = deliver_webhook(
            payload,
            url=subscription.target,
            secret=subscription.secret,
            delivery_id=f"{alert.id}-{subscription.id}",
            attempt=attempt_of(delivery, moment),
            timeout=settings.alerts_timeout,
            allow_private=settings.alerts_allow_private,
            rng=rng,
        )
        settle(session, delivery, outcome, now())
        session.commit()
    report.add(outcome)


def _send_digest(
    sessions: sessionmaker[Session],
    settings: Settings,
    subscription_id: int,
    now: Callable[[], datetime],
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    """One digest of every due delivery of the subscription; only the records it shows
    (``max_records``, most likely includes first) are loaded."""
    with sessions() as session:
        moment = now()
        due = session.execute(
            sa.select(col(Delivery.id)).where(
                col(Delivery.subscription_id) == subscription_id, due_clause(Delivery, moment)
            )
        ).scalars()
        taken = take(session, Delivery, list(due), moment, lease_of(settings))
        session.commit()
        if not taken:
            return
        subscription = session.get(Subscription, subscription_id)
        assert subscription is not None
        shown = _first_by_p_include(session, taken, subscription.max_records)
        rows = _rows(session, shown)
        review, first = rows[0][3], rows[0][0]
        moment = now()
        outcome = send_subscription_digest(
            [payload_of(a, r, v, link_base(settings)) for _, a, r, v, _ in rows],
            settings=settings,
            subscription=subscription,
            review=review,
            label=f"{len(taken)} new alert(s), {moment:%Y-%m-%d %H:%M} UTC",
            delivery_id=f"digest-{subscription.id}-{min(taken)}",
            attempt=attempt_of(first, moment),
            rng=rng,
            total=len(taken),
        )
        settle_many(session, Delivery, taken, outcome, now())
        session.commit()
    report.add(outcome, len(taken))


def _first_by_p_include(session: Session, delivery_ids: list[int], count: int) -> list[int]:
    """The deliveries a digest shows, in ``payload.rank``'s order (most likely include
    first, unknown ``p_include`` last, then PMID), read without loading the records."""
    keyed: list[tuple[bool, float, str, str, int]] = []
    for start in range(0, len(delivery_ids), 1000):
        for delivery_id, alert_id, p_include, pmid in session.execute(
            sa.select(col(Delivery.id), col(Alert.id), col(Alert.p_include), col(Record.pmid))
            .join(Alert, col(Alert.id) == col(Delivery.alert_id))
            .join(Record, col(Record.id) == col(Alert.record_id))
            .where(col(Delivery.id).in_(delivery_ids[start : start + 1000]))
        ).all():
            keyed.append((p_include is None, -(p_include or 0.0), pmid, str(alert_id), delivery_id))
    return [key[-1] for key in heapq.nsmallest(count, keyed)]
