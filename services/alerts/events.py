"""Raising alerts: outbox rows for the events a living review must announce, exactly once.

Three events (issue 8): the machine judges a new or revised record ``include`` (or
``uncertain`` at or above a subscription's threshold); reviewers include a record
(agreement or resolution); an included record's PubMed version now carries a
retraction, an expression of concern or an erratum (each erratum alerts once). Each
alert has a natural key (the event, the record and, for machine verdicts, the
record's content version), unique in the database, and its deliveries (one per
active push subscription) are written in the same transaction. Raising is
idempotent: a retried step, a redelivered task or a second sweep over the same
records adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.alerts import Alert, Delivery, Subscription
from services.db.dialect import dialect_insert
from services.db.models import Record, Review, Screening, utcnow
from services.records import Record as ParsedRecord
from services.records import RetractionStatus

PUSH_CHANNELS = ("webhook", "email")  # an Atom feed is read, not sent to
RETRACTION_EVENTS = {
    RetractionStatus.RETRACTED: "retracted",
    RetractionStatus.EXPRESSION_OF_CONCERN: "expression of concern",
}


def active_subscriptions(*, session: Session, review_id: int) -> list[Subscription]:
    return list(
        session.exec(
            select(Subscription)
            .where(Subscription.review_id == review_id, col(Subscription.active).is_(True))
            .order_by(col(Subscription.id))
        )
    )


def wants(subscription: Subscription, alert: Alert) -> bool:
    """Whether this subscription hears this alert: machine ``uncertain`` verdicts only from
    its threshold up; every other event always."""
    if alert.event != "machine_include" or alert.decision == "include":
        return True
    return alert.p_include is not None and alert.p_include >= subscription.threshold


def raise_alert(
    *,
    session: Session,
    review_id: int,
    record_id: int,
    event: str,
    key: str,
    decision: str,
    p_include: float | None = None,
    criteria: dict[str, Any] | None = None,
    note: str = "",
    sweep_id: int | None = None,
    subscriptions: Sequence[Subscription] | None = None,
    now: datetime | None = None,
) -> Alert | None:
    """Write the alert and its deliveries unless this key was raised before (then None)."""
    now = now or utcnow()
    values: dict[str, Any] = {
        "review_id": review_id,
        "record_id": record_id,
        "event": event,
        "key": key,
        "decision": decision,
        "p_include": p_include,
        "criteria": criteria or {},
        "note": note,
        "sweep_id": sweep_id,
        "created_at": now,
    }
    insert = dialect_insert(session)(Alert).values(**values).on_conflict_do_nothing()
    alert_id = session.execute(insert.returning(col(Alert.id))).scalar()
    if alert_id is None:
        return None
    alert = Alert(id=alert_id, **values)
    if subscriptions is None:
        subscriptions = active_subscriptions(session=session, review_id=review_id)
    rows = [
        {
            "alert_id": alert_id,
            "subscription_id": s.id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for s in subscriptions
        if s.channel in PUSH_CHANNELS and wants(s, alert)
    ]
    if rows:
        session.execute(dialect_insert(session)(Delivery).values(rows).on_conflict_do_nothing())
    return alert


def raise_record_alerts(
    *,
    session: Session,
    review: Review,
    record_ids: Sequence[int],
    is_included: Any,
    sweep_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Machine and retraction alerts for records a sweep stored; returns how many are new.

    ``is_included(record_id) -> bool`` says whether reviewers have included a record
    (the retraction event is only for included evidence). The machine verdict is the
    screening of the record's current content under the review's protocol, so a
    revised record that becomes eligible alerts once more, and an unchanged one never.
    """
    assert review.id is not None
    if not record_ids:
        return 0
    subscriptions = active_subscriptions(session=session, review_id=review.id)
    lowest = min((s.threshold for s in subscriptions), default=0.5)
    rows = session.execute(
        sa.select(Record, Screening)
        .outerjoin(
            Screening,
            sa.and_(
                col(Screening.record_id) == col(Record.id),
                col(Screening.review_id) == review.id,
                col(Screening.content_hash) == col(Record.content_hash),
                col(Screening.protocol_version) == review.protocol_version,
            ),
        )
        .where(col(Record.id).in_(list(record_ids)), col(Record.deleted).is_(False))
    ).all()
    raised = 0
    for record, screening in rows:
        assert record.id is not None
        common = {
            "session": session,
            "review_id": review.id,
            "record_id": record.id,
            "sweep_id": sweep_id,
            "subscriptions": subscriptions,
            "now": now,
        }
        if screening is not None and (
            screening.decision == "include"
            or (screening.decision == "uncertain" and screening.p_include >= lowest)
        ):
            alert = raise_alert(
                event="machine_include",
                key=f"machine:{record.id}:{record.content_hash}",
                decision=screening.decision,
                p_include=screening.p_include,
                criteria=dict(screening.criteria or {}),
                **common,
            )
            raised += alert is not None
        status = ParsedRecord.from_json(record.data or {}).retraction_status
        if status in RETRACTION_EVENTS and is_included(record.id):
            alert = raise_alert(
                event="retraction",
                key=f"retraction:{record.id}:{status.value}",
                decision="include",
                p_include=screening.p_include if screening is not None else None,
                note=f"this included record is now marked: {RETRACTION_EVENTS[status]}",
                **common,
            )
            raised += alert is not None
        for erratum in ParsedRecord.from_json(record.data or {}).errata:
            if not is_included(record.id):
                break
            alert = raise_alert(
                event="retraction",
                key=f"erratum:{record.id}:{erratum.pmid or erratum.source}",
                decision="include",
                p_include=screening.p_include if screening is not None else None,
                note=f"an erratum to this included record was published: "
                f"{erratum.source or 'PMID ' + str(erratum.pmid)}",
                **common,
            )
            raised += alert is not None
    return raised


def raise_human_include(
    *, session: Session, review_id: int, record_id: int, how: str, now: datetime | None = None
) -> Alert | None:
    """Reviewers included the record (``how``: agreement or resolution); once per record."""
    return raise_alert(
        session=session,
        review_id=review_id,
        record_id=record_id,
        event="human_include",
        key=f"human:{record_id}",
        decision="include",
        note=f"included by {how}",
        now=now,
    )
