"""Leasing and settling outbox rows (deliveries and empty digests) so each is sent once.

A row is taken with a conditional UPDATE (``pending`` and due, or ``sending`` with a
lapsed lease), committed before anything is sent, so two workers never send the same
row at once, and a worker killed mid-send leaves a lease that lapses and the row is
sent again. Each attempt's outcome (delivered, retry at a time, failed) is stored on
the row with its reason, so failures are visible.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.alerts.outcome import Attempt, Outcome
from services.db.alerts import Delivery, EmptyDigest
from services.db.dialect import aware
from services.settings import Settings

OutboxRow = Delivery | EmptyDigest


def due_clause(model: type[OutboxRow], now: datetime) -> sa.ColumnElement[bool]:
    """Rows to send now: pending and due, or left ``sending`` by a worker that died."""
    return sa.or_(
        sa.and_(col(model.state) == "pending", col(model.next_attempt_at) <= now),
        sa.and_(col(model.state) == "sending", col(model.lease_until) < now),
    )


CHUNK = 1000  # ids per statement: well under every database's limit on parameters


def take(
    session: Session, model: type[OutboxRow], ids: list[int], now: datetime, lease: timedelta
) -> list[int]:
    """Lease the rows among ``ids`` that are still due; the ones this worker now owns.

    The lease (``Settings.delivery_lease_seconds``) outlasts a send, whose every request is
    cut at ``alerts_timeout``, so a lapsed lease means the sender died."""
    taken: list[int] = []
    for start in range(0, len(ids), CHUNK):
        taken += session.execute(
            sa.update(model)
            .where(col(model.id).in_(ids[start : start + CHUNK]), due_clause(model, now))
            .values(state="sending", lease_until=now + lease)
            .returning(col(model.id))
        ).scalars()
    return taken


def lease_of(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.delivery_lease_seconds)


def attempt_of(row: OutboxRow, moment: datetime) -> Attempt:
    first = aware(row.first_attempt_at) if row.first_attempt_at else moment
    return Attempt(row.attempts + 1, first, moment)


def settle_many(
    session: Session, model: type[OutboxRow], ids: list[int], outcome: Outcome, now: datetime
) -> None:
    """Store one attempt's outcome on many rows at once (the deliveries of one digest)."""
    values: dict[str, Any] = {
        "attempts": col(model.attempts) + 1,
        "first_attempt_at": sa.func.coalesce(col(model.first_attempt_at), now),
        "lease_until": None,
        "last_error": "" if outcome.status == "delivered" else outcome.reason,
    }
    if outcome.status in ("delivered", "skipped"):
        values.update(state="delivered", delivered_at=now)
    elif outcome.status == "retry":
        values.update(state="pending", next_attempt_at=outcome.next_attempt_at or now)
    else:
        values.update(state="failed")
    for start in range(0, len(ids), CHUNK):
        session.execute(
            sa.update(model).where(col(model.id).in_(ids[start : start + CHUNK])).values(values)
        )


def settle(session: Session, row: OutboxRow, outcome: Outcome, now: datetime) -> None:
    """Store one attempt's outcome on its row."""
    row.attempts += 1
    row.first_attempt_at = row.first_attempt_at or now
    row.lease_until = None
    row.last_error = "" if outcome.status == "delivered" else outcome.reason
    if outcome.status in ("delivered", "skipped"):
        row.state = "delivered"
        row.delivered_at = now
    elif outcome.status == "retry":
        row.state = "pending"
        row.next_attempt_at = outcome.next_attempt_at or now
    else:
        row.state = "failed"
    session.add(row)
