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
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.alerts import Alert, Delivery, Subscription
from services.db.dialect import dialect_insert
from services.db.models import Record, Review, Screening, utcnow
from services.records import RETRACTION_PUBLICATION_TYPES, RetractionStatus
from services.records import Record as ParsedRecord

ALERTS: sa.Table = Alert.__table__  # type: ignore[attr-defined]
DELIVERIES: sa.Table = Delivery.__table__  # type: ignore[attr-defined]
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


def wants(subscription: Subscription, alert: Alert | SimpleNamespace) -> bool:
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
    }
    raised = raise_alerts(
        session=session, review_id=review_id, alerts=[values],
        subscriptions=subscriptions, now=now,
    )  # fmt: skip
    if not raised:
        return None
    alert_id, row = raised[0]
    return Alert(id=alert_id, **row)


def raise_alerts(
    *,
    session: Session,
    review_id: int,
    alerts: Sequence[dict[str, Any]],
    subscriptions: Sequence[Subscription] | None = None,
    now: datetime | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """Write many alerts and their deliveries in two statements; returns the new ones.

    Keys raised before are skipped by the database (``ON CONFLICT DO NOTHING``), so
    the new alerts (id and values) are exactly those whose ids come back. One statement per batch,
    not per alert, keeps a 10,000-record sweep's alerts to seconds (issue 8's target).
    """
    if not alerts:
        return []
    now = now or utcnow()
    rows = [{**values, "review_id": review_id, "created_at": now} for values in alerts]
    by_key = {row["key"]: row for row in rows}
    # executemany with RETURNING: compiled once, sent in batches by SQLAlchemy's
    # "insertmanyvalues" (a multi-row VALUES clause would be compiled per call).
    insert = dialect_insert(session)(ALERTS).on_conflict_do_nothing()
    connection = session.connection()
    returned = connection.execute(insert.returning(ALERTS.c.id, ALERTS.c.key), rows).all()
    raised = sorted((alert_id, by_key[key]) for alert_id, key in returned)
    if subscriptions is None:
        subscriptions = active_subscriptions(session=session, review_id=review_id)
    deliveries = [
        {
            "alert_id": alert_id,
            "subscription_id": s.id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for alert_id, row in raised
        for s in subscriptions
        if s.channel in PUSH_CHANNELS and wants(s, SimpleNamespace(**row))
    ]
    if deliveries:
        connection.execute(dialect_insert(session)(DELIVERIES).on_conflict_do_nothing(), deliveries)
    return raised


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
    alerts: list[dict[str, Any]] = []
    for record, screening in rows:
        assert record.id is not None
        common = {"record_id": record.id, "sweep_id": sweep_id}
        p_include = screening.p_include if screening is not None else None
        if screening is not None and (
            screening.decision == "include"
            or (screening.decision == "uncertain" and screening.p_include >= lowest)
        ):
            alerts.append(
                {
                    **common,
                    "event": "machine_include",
                    "key": f"machine:{record.id}:{record.content_hash}",
                    "decision": screening.decision,
                    "p_include": screening.p_include,
                    "criteria": dict(screening.criteria or {}),
                    "note": "",
                }
            )
        alerts.extend(_evidence_alerts(record, p_include, is_included, common))
    return len(
        raise_alerts(
            session=session,
            review_id=review.id,
            alerts=alerts,
            subscriptions=subscriptions,
            now=now,
        )  # fmt: skip
    )


def _evidence_alerts(
    record: Record, p_include: float | None, is_included: Any, common: dict[str, Any]
) -> list[dict[str, Any]]:
    """Retraction, expression-of-concern and erratum alerts of an included record.

    Parsing the stored JSON and asking whether reviewers included the record cost a
    query each, so both happen only for records that carry such a link at all.
    """
    data = record.data or {}
    flagged_type = any(
        kind in RETRACTION_PUBLICATION_TYPES for kind in data.get("publication_types") or []
    )
    if not (data.get("retractions") or data.get("errata") or flagged_type):
        return []
    parsed = ParsedRecord.from_json(data)
    status = parsed.retraction_status
    if status not in RETRACTION_EVENTS and not parsed.errata:
        return []
    assert record.id is not None
    if not is_included(record.id):
        return []
    base = {**common, "event": "retraction", "decision": "include", "p_include": p_include}
    found = []
    if status in RETRACTION_EVENTS:
        found.append(
            {
                **base,
                "key": f"retraction:{record.id}:{status.value}",
                "note": f"this included record is now marked: {RETRACTION_EVENTS[status]}",
                "criteria": {},
            }
        )
    for erratum in parsed.errata:
        found.append(
            {
                **base,
                "key": f"erratum:{record.id}:{erratum.pmid or erratum.source}",
                "note": "an erratum to this included record was published: "
                f"{erratum.source or 'PMID ' + str(erratum.pmid)}",
                "criteria": {},
            }
        )
    return found


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
