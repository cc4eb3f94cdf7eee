"""Conflicts between reviewers, the decisions behind them, and a resolver's settlement."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.alerts.events import raise_human_include
from services.db.models import Record
from services.db.reviewing import DECISIONS, Claim, Decision, Resolution
from services.reviewing.errors import InvalidDecision, StateConflict
from services.reviewing.status import Blinding, party_to, record_status, records_query


def conflicts(
    *, session: Session, review_id: int, required: int, resolver_id: int | None = None
) -> list[Record]:
    """Records in conflict; with ``resolver_id`` only those that resolver may settle (not the
    ones they claimed or decided themselves)."""
    blinding = None if resolver_id is None else Blinding(resolver_id, exempt=True)
    stmt = records_query(
        review_id=review_id, required=required, status="conflict", blinding=blinding
    )
    return [row[0] for row in session.execute(stmt.order_by(Record.id)).all()]


def decisions_of(
    *, session: Session, review_id: int, record_ids: Sequence[int], current_only: bool = False
) -> dict[int, list[Decision]]:
    stmt = select(Decision).where(
        Decision.review_id == review_id, col(Decision.record_id).in_(list(record_ids))
    )
    if current_only:
        stmt = stmt.where(col(Decision.is_current).is_(True))
    out: dict[int, list[Decision]] = {rid: [] for rid in record_ids}
    for row in session.exec(stmt.order_by(col(Decision.created_at), col(Decision.id))):
        out[row.record_id].append(row)
    return out


def resolution_of(*, session: Session, review_id: int, record_id: int) -> Resolution | None:
    return session.exec(
        select(Resolution).where(
            Resolution.review_id == review_id, Resolution.record_id == record_id
        )
    ).first()


def resolve(
    *,
    session: Session,
    review_id: int,
    record_id: int,
    user_id: int,
    decision: str,
    note: str = "",
    required: int,
) -> Resolution:
    """A resolver settles a conflict; only records in conflict can be resolved, once, and
    never by someone who screened the record (a party cannot be the judge)."""
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be 'include' or 'exclude', got {decision!r}")
    if is_party(session=session, review_id=review_id, record_id=record_id, user_id=user_id):
        raise StateConflict(
            f"you claimed or decided record {record_id} yourself, so you cannot resolve it; "
            "a resolver who did not screen it must"
        )
    state = record_status(
        session=session, review_id=review_id, record_id=record_id, required=required
    )
    if state != "conflict":
        raise StateConflict(f"record {record_id} is not in conflict (its status is {state})")
    row = Resolution(
        review_id=review_id, record_id=record_id, user_id=user_id, decision=decision, note=note
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise StateConflict(f"record {record_id} was resolved by someone else just now") from None
    if decision == "include":
        raise_human_include(
            session=session, review_id=review_id, record_id=record_id, how="a resolver"
        )
    return row


def is_party(*, session: Session, review_id: int, record_id: int, user_id: int) -> bool:
    """The user claimed or decided the record in this review (so blind mode applies to them)."""
    stmt = sa.select(party_to(user_id, record_id, review_id))
    return bool(session.execute(stmt).scalar())


def party_records(*, session: Session, review_id: int, user_id: int) -> set[int]:
    """Ids of the records the user claimed or decided in this review."""
    claimed = sa.select(col(Claim.record_id)).where(
        col(Claim.review_id) == review_id, col(Claim.user_id) == user_id
    )
    decided = sa.select(col(Decision.record_id)).where(
        col(Decision.review_id) == review_id, col(Decision.user_id) == user_id
    )
    return set(session.execute(sa.union(claimed, decided)).scalars())
