"""Delivering the outbox: due deliveries are leased, sent through their channel, and settled.

A delivery is taken with a conditional UPDATE (``pending`` and due, or ``sending`` with
a lapsed lease), committed before anything is sent, so two workers never send the
same delivery at once, and a worker killed mid-send leaves a lease that lapses and
the delivery is sent again with the same ``X-Livescreen-Delivery`` key (a receiver
that has seen the key drops the repeat). An e-mail subscription's due deliveries go
out as one digest. Each attempt's outcome (delivered, retry at a time, failed) is
stored with its reason, so failures are visible.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from classifiers.types import CriterionResult, Evidence
from services.alerts.email import DigestContext, DigestOptions, deliver_digest
from services.alerts.outcome import Attempt, Outcome
from services.alerts.payload import AlertPayload, link_base, record_url
from services.alerts.smtp_url import parse_smtp_url
from services.alerts.webhook import deliver_webhook
from services.db.alerts import Alert, Delivery, Subscription
from services.db.dialect import aware
from services.db.models import Record, Review, utcnow
from services.records import Record as ParsedRecord
from services.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """What one pass did, by outcome."""

    delivered: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, count: int = 1) -> None:
        setattr(self, outcome.status, getattr(self, outcome.status) + count)
        if outcome.status in ("retry", "failed") and outcome.reason:
            self.errors.append(outcome.reason)


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


def _take(session: Session, ids: list[int], now: datetime, lease: timedelta) -> list[int]:
    """Lease the deliveries among ``ids`` that are still due; the ones this worker now owns.

    The lease (``Settings.delivery_lease_seconds``) outlasts a send, whose every request is
    cut at ``alerts_timeout``, so a lapsed lease means the sender died."""
    due = sa.or_(
        sa.and_(col(Delivery.state) == "pending", col(Delivery.next_attempt_at) <= now),
        sa.and_(col(Delivery.state) == "sending", col(Delivery.lease_until) < now),
    )
    taken = session.execute(
        sa.update(Delivery)
        .where(col(Delivery.id).in_(ids), due)
        .values(state="sending", lease_until=now + lease)
        .returning(col(Delivery.id))
    ).scalars()
    return list(taken)


def _lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.delivery_lease_seconds)


def _settle(session: Session, delivery: Delivery, outcome: Outcome, now: datetime) -> None:
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.lease_until = None
    delivery.last_error = "" if outcome.status == "delivered" else outcome.reason
    if outcome.status in ("delivered", "skipped"):
        delivery.state = "delivered"
        delivery.delivered_at = now
    elif outcome.status == "retry":
        delivery.state = "pending"
        delivery.next_attempt_at = outcome.next_attempt_at or now
    else:
        delivery.state = "failed"
    session.add(delivery)


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
    rest. Safe to run in several workers at once and to run again after a crash."""
    rng = rng or random.Random()
    report = DeliveryReport()
    with sessions() as session:
        moment = now()
        stmt = (
            sa.select(col(Delivery.id), col(Subscription.channel), col(Subscription.id))
            .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
            .where(
                sa.or_(
                    sa.and_(
                        col(Delivery.state) == "pending", col(Delivery.next_attempt_at) <= moment
                    ),
                    sa.and_(col(Delivery.state) == "sending", col(Delivery.lease_until) < moment),
                )
            )
            .order_by(col(Delivery.id))
            .limit(limit)
        )
        if review_id is not None:
            stmt = stmt.where(col(Subscription.review_id) == review_id)
        by_subscription: dict[int, list[int]] = defaultdict(list)
        channels: dict[int, str] = {}
        for delivery_id, channel, subscription_id in session.execute(stmt).all():
            by_subscription[subscription_id].append(delivery_id)
            channels[subscription_id] = channel
    for subscription_id, ids in by_subscription.items():
        try:
            if channels[subscription_id] == "email":
                _send_digest(sessions, settings, subscription_id, ids, now, rng, report)
            else:
                for delivery_id in ids:
                    _send_webhook(sessions, settings, delivery_id, now, rng, report)
        except Exception as exc:  # a bug or a lost database: the next pass tries again
            log.exception("delivering to subscription %s failed", subscription_id)
            report.errors.append(f"subscription {subscription_id}: {exc}")
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


def _attempt(delivery: Delivery, moment: datetime) -> Attempt:
    first = aware(delivery.first_attempt_at) if delivery.first_attempt_at else moment
    return Attempt(delivery.attempts + 1, first, moment)


def _send_webhook(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery_id: int,
    now: Callable[[], datetime],
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    with sessions() as session:
        if not _take(session, [delivery_id], now(), _lease(settings)):
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
            attempt=_attempt(delivery, moment),
            timeout=settings.alerts_timeout,
            allow_private=settings.alerts_allow_private,
            rng=rng,
        )
        _settle(session, delivery, outcome, now())
        session.commit()
    report.add(outcome)


def _send_digest(
    sessions: sessionmaker[Session],
    settings: Settings,
    subscription_id: int,
    delivery_ids: list[int],
    now: Callable[[], datetime],
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    with sessions() as session:
        taken = _take(session, delivery_ids, now(), _lease(settings))
        session.commit()
        if not taken:
            return
        rows = _rows(session, taken)
        subscription, review = rows[0][4], rows[0][3]
        base = link_base(settings)
        moment = now()
        smtp_url = settings.smtp_url.get_secret_value()
        if not smtp_url:
            outcome = Outcome(
                "retry",
                "no SMTP server configured (LIVESCREEN_SMTP_URL)",
                moment + timedelta(hours=1),
            )
        else:
            outcome = deliver_digest(
                [payload_of(a, r, v, base) for _, a, r, v, _ in rows],
                ctx=DigestContext(
                    review_slug=review.slug,
                    review_title=review.title,
                    sweep_label=f"{len(rows)} new alert(s), {moment:%Y-%m-%d %H:%M} UTC",
                    review_url=f"{base}/reviews/{review.slug}",
                    sender=settings.smtp_from,
                    recipient=subscription.target,
                    sent_at=moment,
                    delivery_id=f"digest-{subscription.id}-{min(taken)}",
                ),
                options=DigestOptions(
                    max_records=subscription.max_records, send_when_empty=subscription.send_empty
                ),
                config=parse_smtp_url(smtp_url),
                attempt=_attempt(rows[0][0], moment),
                timeout=settings.alerts_timeout,
                rng=rng,
            )
        for delivery, *_ in rows:
            _settle(session, delivery, outcome, now())
        session.commit()
    report.add(outcome, len(rows))
