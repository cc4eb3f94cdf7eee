"""Human decisions: record one (a second replaces the first, kept on file) and undo the last.

Besides include and exclude a reviewer may say "maybe": the record leaves their queue and
waits for a second look, and counts as not yet screened until an include or exclude
replaces it. A maybe is no vote, so it never makes a conflict, a kappa pair or a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.alerts.events import raise_human_include
from services.db.dialect import prebuilt
from services.db.models import ReviewRecord, utcnow
from services.db.reviewing import DECISIONS, Claim, Decision, Resolution
from services.reviewing.claims import claim_of
from services.reviewing.errors import InvalidDecision, NotClaimed, StateConflict
from services.reviewing.status import MAYBE, record_status

REVIEWER_DECISIONS = (*DECISIONS, MAYBE)  # what a reviewer may say; resolutions stay binary


def validate_decision(decision: str, reasons: Sequence[str], criteria: Sequence[str]) -> None:
    if decision not in REVIEWER_DECISIONS:
        raise InvalidDecision(f"decision must be 'include', 'exclude' or 'maybe', got {decision!r}")
    if decision != "exclude" and reasons:
        raise InvalidDecision("reasons name the criteria a record fails; only excludes take them")
    unknown = [r for r in reasons if r not in criteria]
    if unknown:
        known = ", ".join(criteria) or "none"
        raise InvalidDecision(
            f"unknown reason(s) {', '.join(map(repr, unknown))}; the review's criteria are: {known}"
        )


def current_decision(
    *, session: Session, review_id: int, record_id: int, user_id: int
) -> Decision | None:
    return session.exec(
        select(Decision).where(
            Decision.review_id == review_id,
            Decision.record_id == record_id,
            Decision.user_id == user_id,
            col(Decision.is_current).is_(True),
        )
    ).first()


def record_decision(
    *,
    session: Session,
    review_id: int,
    record_id: int,
    user_id: int,
    decision: str,
    reasons: Sequence[str] = (),
    note: str = "",
    criteria: Sequence[str] = (),
    required: int,
    now: datetime | None = None,
) -> Decision:
    """Store a decision; a reviewer's second one replaces the first, which stays on file.

    When the record then has its ``required`` decisions and they disagree, the record is
    marked in conflict for good: changing a vote afterwards does not settle it, only a
    resolution does (else the second reviewer could settle a blind conflict alone).
    """
    validate_decision(decision, reasons, criteria)
    now = now or utcnow()
    # Core statements on the session's connection (same transaction): the ORM's bulk
    # UPDATE/INSERT machinery cost more than the statements themselves.
    conn = session.connection()
    key = {"review": review_id, "record": record_id, "user": user_id}
    if conn.execute(_finish_claim_stmt(), {**key, "now": now}).first() is None:
        raise NotClaimed(
            f"record {record_id} is not claimed by you in this review (its lease may have "
            "lapsed and gone to someone else); claim records with POST /next"
        )
    # Ended before the new row goes in, for the partial unique index on current decisions.
    conn.execute(_end_current_stmt(), {**key, "now": now, "reason": "replaced"})
    row = Decision(
        review_id=review_id,
        record_id=record_id,
        user_id=user_id,
        decision=decision,
        reasons=list(dict.fromkeys(reasons)),
        note=note,
        created_at=now,
    )
    values = row.model_dump(exclude={"id", "ended_at", "end_reason", "model_version"})
    values.update(rank_review=review_id, rank_record=record_id)
    row.id = conn.execute(_insert_decision_stmt(), values).scalar_one()
    if decision != MAYBE:
        mark_conflict(conn, review_id=review_id, record_id=record_id, required=required, now=now)
    if decision == "include" and (
        record_status(session=session, review_id=review_id, record_id=record_id, required=required)
        == "included"
    ):
        # the outbox row goes in this same transaction: the alert exists iff the include does
        raise_human_include(
            session=session,
            review_id=review_id,
            record_id=record_id,
            how="agreement of reviewers" if required > 1 else "a reviewer",
            now=now,
        )
    return row


def mark_conflict(
    conn: Any, *, review_id: int, record_id: int, required: int, now: datetime
) -> None:
    """Stamp the record in conflict once it has ``required`` current votes that disagree
    (never with single screening)."""
    if required > 1:
        conn.execute(
            _mark_conflict_stmt(),
            {"review": review_id, "record": record_id, "required": required, "now": now},
        )


@prebuilt
def _mark_conflict_stmt() -> Any:
    """Stamp ``conflict_at`` once the record's current votes (maybes are none) are enough
    and disagree."""
    current = sa.and_(
        col(Decision.review_id) == sa.bindparam("review"),
        col(Decision.record_id) == sa.bindparam("record"),
        col(Decision.is_current).is_(True),
        col(Decision.decision) != MAYBE,
    )
    enough = sa.select(sa.func.count()).where(current).scalar_subquery()
    kinds = sa.select(sa.func.count(sa.distinct(col(Decision.decision)))).where(current)
    return (
        sa.update(ReviewRecord)
        .where(
            col(ReviewRecord.review_id) == sa.bindparam("review"),
            col(ReviewRecord.record_id) == sa.bindparam("record"),
            col(ReviewRecord.conflict_at).is_(None),
            enough >= sa.bindparam("required"),
            kinds.scalar_subquery() > 1,
        )
        .values(conflict_at=sa.bindparam("now"))
    )


def _callers_row(model: type[Claim] | type[Decision]) -> list[Any]:
    """Conditions picking the caller's (``:user``) rows on one record of one review."""
    return [
        col(model.review_id) == sa.bindparam("review"),
        col(model.record_id) == sa.bindparam("record"),
        col(model.user_id) == sa.bindparam("user"),
    ]


@prebuilt
def _finish_claim_stmt() -> Any:
    """The caller's claim on the record turns ``done`` (it keeps its slot for good)."""
    return (
        sa.update(Claim)
        .where(*_callers_row(Claim))
        .values(status="done", expires_at=sa.bindparam("now"))
        .returning(col(Claim.id))
    )


@prebuilt
def _end_current_stmt() -> Any:
    return (
        sa.update(Decision)
        .where(*_callers_row(Decision), col(Decision.is_current).is_(True))
        .values(is_current=False, ended_at=sa.bindparam("now"), end_reason=sa.bindparam("reason"))
    )


@prebuilt
def _insert_decision_stmt() -> Any:
    # model_version: what ranked the record when it was decided, read in the same statement
    version = (
        sa.select(col(ReviewRecord.ranked_by))
        .where(
            col(ReviewRecord.review_id) == sa.bindparam("rank_review"),
            col(ReviewRecord.record_id) == sa.bindparam("rank_record"),
        )
        .scalar_subquery()
    )
    return sa.insert(Decision).values(model_version=version).returning(col(Decision.id))


def undo_last(
    *, session: Session, review_id: int, user_id: int, lease: timedelta, now: datetime | None = None
) -> Decision | None:
    """Take back the caller's newest current decision and hand its record back to them."""
    now = now or utcnow()
    last = session.exec(
        select(Decision)
        .where(
            Decision.review_id == review_id,
            Decision.user_id == user_id,
            col(Decision.is_current).is_(True),
        )
        .order_by(col(Decision.created_at).desc(), col(Decision.id).desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    if session.exec(
        select(Resolution).where(
            Resolution.review_id == review_id, Resolution.record_id == last.record_id
        )
    ).first():
        raise StateConflict(f"record {last.record_id} is already resolved; it cannot be undone")
    last.is_current = False
    last.ended_at = now
    last.end_reason = "undone"
    claim = claim_of(
        session=session, review_id=review_id, record_id=last.record_id, user_id=user_id
    )
    if claim is not None:
        claim.status = "active"
        claim.claimed_at = now
        claim.expires_at = now + lease
        session.add(claim)
    session.add(last)
    session.flush()
    return last
