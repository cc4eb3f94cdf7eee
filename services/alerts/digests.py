"""A subscription's e-mail digest, and the "nothing new" digest of a quiet sweep.

A sweep's alerts reach an e-mail subscription as one digest of its deliveries. A
sweep that raises no alert for a subscription writes no delivery, so when the
subscription asks to hear "even when nothing is new", the alerts step writes an
:class:`EmptyDigest` row for it instead (unique per subscription and sweep, in the
step's transaction), and the delivery pass sends it as an empty digest with the same
leases, retries and visible state as any delivery.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from services.alerts.email import DigestContext, DigestOptions, deliver_digest
from services.alerts.lease import attempt_of, due_clause, lease_of, settle, take
from services.alerts.outcome import Attempt, DeliveryReport, Outcome
from services.alerts.payload import AlertPayload, link_base
from services.alerts.smtp_url import parse_smtp_url
from services.db.alerts import Alert, Delivery, EmptyDigest, Subscription
from services.db.dialect import dialect_insert
from services.db.models import Review, Sweep, utcnow
from services.settings import Settings

EMPTY_DIGESTS: sa.Table = EmptyDigest.__table__  # type: ignore[attr-defined]


def send_subscription_digest(
    payloads: Sequence[AlertPayload],
    *,
    settings: Settings,
    subscription: Subscription,
    review: Review,
    label: str,
    delivery_id: str,
    attempt: Attempt,
    rng: random.Random,
    total: int | None = None,
) -> Outcome:
    """Send one digest to an e-mail subscription (empty only when it asks for that);
    ``total`` is how many alerts it holds when ``payloads`` are only the shown ones."""
    smtp_url = settings.smtp_url.get_secret_value()
    if not smtp_url:
        return Outcome(
            "retry",
            "no SMTP server configured (LIVESCREEN_SMTP_URL)",
            attempt.now + timedelta(hours=1),
        )
    base = link_base(settings)
    return deliver_digest(
        list(payloads),
        ctx=DigestContext(
            review_slug=review.slug,
            review_title=review.title,
            sweep_label=label,
            review_url=f"{base}/reviews/{review.slug}",
            sender=settings.smtp_from,
            recipient=subscription.target,
            sent_at=attempt.now,
            delivery_id=delivery_id,
            total=total,
        ),
        options=DigestOptions(
            max_records=subscription.max_records, send_when_empty=subscription.send_empty
        ),
        config=parse_smtp_url(smtp_url),
        attempt=attempt,
        timeout=settings.alerts_timeout,
        rng=rng,
    )


def raise_empty_digests(
    *, session: Session, review_id: int, sweep_id: int, since_sweep_id: int
) -> int:
    """Write the empty digest of ``sweep_id`` for each active e-mail subscription that wants
    one and has no alert of the sweeps after ``since_sweep_id``; how many are new.

    Runs in the alerts step's transaction, after its alerts: a step run again after a
    crash finds the rows there and adds nothing."""
    wanting = list(
        session.execute(
            sa.select(col(Subscription.id)).where(
                col(Subscription.review_id) == review_id,
                col(Subscription.channel) == "email",
                col(Subscription.active).is_(True),
                col(Subscription.send_empty).is_(True),
            )
        ).scalars()
    )
    if not wanting:
        return 0
    alerted = set(
        session.execute(
            sa.select(col(Delivery.subscription_id))
            .join(Alert, col(Alert.id) == col(Delivery.alert_id))
            .where(
                col(Delivery.subscription_id).in_(wanting),
                col(Alert.sweep_id) > since_sweep_id,
                col(Alert.sweep_id) <= sweep_id,
            )
            .distinct()
        ).scalars()
    )
    now = utcnow()
    rows = [
        {
            "subscription_id": sid,
            "sweep_id": sweep_id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for sid in wanting
        if sid not in alerted
    ]
    if not rows:
        return 0
    insert = dialect_insert(session)(EMPTY_DIGESTS).on_conflict_do_nothing()
    returned = session.connection().execute(insert.returning(EMPTY_DIGESTS.c.id), rows).all()
    return len(returned)


def send_empty_digests(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    review_id: int | None,
    now: Callable[[], datetime],
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    """Send every due empty digest (of one review, or all), each under its own lease."""
    with sessions() as session:
        stmt = (
            sa.select(col(EmptyDigest.id))
            .join(Subscription, col(Subscription.id) == col(EmptyDigest.subscription_id))
            .where(due_clause(EmptyDigest, now()))
            .order_by(col(EmptyDigest.id))
        )
        if review_id is not None:
            stmt = stmt.where(col(Subscription.review_id) == review_id)
        due = list(session.execute(stmt).scalars())
    for digest_id in due:
        with sessions() as session:
            if not take(session, EmptyDigest, [digest_id], now(), lease_of(settings)):
                continue  # another worker has it, or it is done
            session.commit()
            digest = session.get(EmptyDigest, digest_id)
            assert digest is not None
            subscription = session.get(Subscription, digest.subscription_id)
            sweep = session.get(Sweep, digest.sweep_id)
            assert subscription is not None and sweep is not None
            review = session.get(Review, subscription.review_id)
            assert review is not None
            moment = now()
            swept = sweep.finished_at or sweep.started_at
            outcome = send_subscription_digest(
                [],
                settings=settings,
                subscription=subscription,
                review=review,
                label=f"of {swept:%Y-%m-%d %H:%M} UTC: nothing new",
                delivery_id=f"empty-{subscription.id}-{sweep.id}",
                attempt=attempt_of(digest, moment),
                rng=rng,
            )
            settle(session, digest, outcome, now())
            session.commit()
        report.add(outcome)
