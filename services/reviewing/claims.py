"""Claims with leases: hand each reviewer the best record nobody else holds, race-free.

Claiming is race-free on both databases: a claim is an ``INSERT ... ON CONFLICT
DO NOTHING`` into ``claims``, whose unique constraints allow one holder per
screening slot and one slot per reviewer. SQLite serialises writers on its
database lock; PostgreSQL makes a second inserter of the same key wait for the
first and then do nothing, and to keep reviewers from queueing behind each other
the first candidate nobody else is claiming is locked with ``FOR NO KEY UPDATE
SKIP LOCKED``. The loser simply tries the next record, so two reviewers never
receive the same slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.dialect import aware, dialect_name
from services.db.models import Record, Screening, utcnow
from services.db.reviewing import Claim, Skip
from services.reviewing.claim_statements import (
    chunk_states_stmt,
    delete_expired_stmt,
    insert_claim_stmt,
    lock_first_free,
)
from services.reviewing.errors import NotClaimed
from services.reviewing.order import Ranking, rank_queue

CHUNK = 200
LOCK_SLICE = 16


def held_claim(
    *, session: Session, review_id: int, user_id: int, now: datetime | None = None
) -> Claim | None:
    """The caller's newest unexpired lease in this review, so a reload shows the same record."""
    now = now or utcnow()
    return session.exec(
        select(Claim)
        .where(
            Claim.review_id == review_id,
            Claim.user_id == user_id,
            Claim.status == "active",
            Claim.expires_at > now,
        )
        .order_by(col(Claim.claimed_at).desc(), col(Claim.id).desc())
        .limit(1)
    ).first()


def renew(claim: Claim, *, lease: timedelta, now: datetime | None = None) -> None:
    """Activity on a claimed record extends its lease."""
    if claim.status == "active":
        claim.expires_at = (now or utcnow()) + lease


@dataclass
class Claimed:
    """A claim with its record, and the record's machine screening when it came along.

    ``machine_loaded`` tells a screening that is None because there is none from one
    that was not looked up (then :func:`machine_screening` finds it).
    """

    claim: Claim
    record: Record
    machine: Screening | None = None
    machine_loaded: bool = False


def _try_claim(
    *,
    session: Session,
    review_id: int,
    record_id: int,
    user_id: int,
    free_slots: list[int],
    has_expired: bool,
    lease: timedelta,
    now: datetime,
) -> Claim | None:
    conn = session.connection()
    params: dict[str, Any] = {"review": review_id, "record": record_id, "now": now}
    if has_expired:
        conn.execute(delete_expired_stmt(), params)
    insert = insert_claim_stmt(dialect_name(session))
    params.update(user=user_id, expires=now + lease)
    for slot in free_slots:
        row = conn.execute(insert, {**params, "slot_no": slot}).first()
        if row is not None:
            return Claim(**row._mapping)
    return None


def claim_next(
    *,
    session: Session,
    review_id: int,
    user_id: int,
    required: int,
    lease: timedelta,
    ranking: Ranking | None = None,
    now: datetime | None = None,
    wait: bool = False,
) -> Claimed | None:
    """Claim the best record this reviewer may screen, or None when nothing is left for them.

    ``wait`` makes PostgreSQL wait for records others are claiming this instant rather
    than pass them over: needed before answering "nothing left" under dual screening,
    where such a record may still need this reviewer.

    A reviewer never receives a record they already hold or decided (``uq_claim_user``);
    records they skipped come back only after everything else. The claim comes with its
    record (and on PostgreSQL its machine screening), read by the statements that make it.
    """
    now = now or utcnow()
    if ranking is None:
        ranking = Ranking(rank_queue(session=session, review_id=review_id, required=required))
    if ranking.start >= len(ranking.ids):
        # No window to walk, whose query would also have noticed a held claim.
        return _held(session=session, review_id=review_id, user_id=user_id, lease=lease, now=now)
    skipped: set[int] = set()  # filled while walking; they are tried again last
    look_for_held = True
    for second_pass in (False, True):
        if second_pass and not skipped:
            break
        leading = True
        index = ranking.start
        while index < len(ranking.ids):
            window = ranking.ids[index : index + CHUNK]
            index += len(window)
            if second_pass:
                window = [rid for rid in window if rid in skipped]
                if not window:
                    continue
            claimed, done_prefix, skips = _claim_in_chunk(
                session=session,
                review_id=review_id,
                user_id=user_id,
                required=required,
                chunk=window,
                take_skipped=second_pass,
                wait=wait,
                lease=lease,
                now=now,
                look_for_held=look_for_held,
            )
            if isinstance(claimed, _Holds):
                held = _held(
                    session=session, review_id=review_id, user_id=user_id, lease=lease, now=now
                )
                if held is not None:
                    return held
                # the lease ended this instant: walk on as if there had been none
                look_for_held = False
                index -= len(window)
                continue
            look_for_held = False
            skipped |= skips
            if leading and not second_pass:
                # Everyone after us can start past the records found fully decided at the
                # head of the order, so the windows they read hold few finished claims.
                ranking.start = max(ranking.start, index - len(window) + done_prefix)
                leading = done_prefix == len(window)
            if claimed is not None:
                return claimed
    return None


def _held(
    *, session: Session, review_id: int, user_id: int, lease: timedelta, now: datetime
) -> Claimed | None:
    """The caller's held claim, renewed, with its record."""
    held = held_claim(session=session, review_id=review_id, user_id=user_id, now=now)
    if held is None:
        return None
    renew(held, lease=lease, now=now)
    record = session.get(Record, held.record_id)
    assert record is not None  # claims go with their record (ON DELETE CASCADE)
    return Claimed(held, record)


class _Holds:
    """What :func:`_claim_in_chunk` returns when the caller already holds a claim."""


HOLDS = _Holds()


def _claim_in_chunk(
    *,
    session: Session,
    review_id: int,
    user_id: int,
    required: int,
    chunk: list[int],
    take_skipped: bool,
    lease: timedelta,
    wait: bool = False,
    now: datetime,
    look_for_held: bool = False,
) -> tuple[Claimed | _Holds | None, int, set[int]]:
    """Claim within one window of the order.

    Returns the claim (or None), how many records at the head of the window are fully
    decided, and the records of the window this reviewer skipped (one query reads them
    all). With ``look_for_held`` the same query also looks for a lease the caller holds
    anywhere in the review, and when there is one returns ``HOLDS`` without claiming.
    """
    rows = session.connection().execute(
        chunk_states_stmt(dialect_name(session), look_for_held),
        {"review_id": review_id, "user_id": user_id, "ids": chunk, "now": now},
    )
    held: dict[int, set[int]] = {}
    expired: set[int] = set()
    done: dict[int, int] = {}
    mine: set[int] = set()
    skipped: set[int] = set()
    for record_id, slot, holder, status, expires_at in rows:
        if status == "held":
            return HOLDS, 0, set()
        if status == "skipped":
            skipped.add(record_id)
            continue
        if holder == user_id:
            mine.add(record_id)
        if status == "done":
            done[record_id] = done.get(record_id, 0) + 1
            held.setdefault(record_id, set()).add(slot)
        elif aware(expires_at) > now:
            held.setdefault(record_id, set()).add(slot)
        else:
            expired.add(record_id)
    done_prefix = 0
    while done_prefix < len(chunk) and done.get(chunk[done_prefix], 0) >= required:
        done_prefix += 1
    free: dict[int, list[int]] = {}
    for record_id in chunk:
        if record_id in mine or (record_id in skipped) != take_skipped:
            continue
        slots = [s for s in range(1, required + 1) if s not in held.get(record_id, set())]
        if slots:
            free[record_id] = slots
    candidates = list(free)
    postgres = dialect_name(session) == "postgresql"
    while candidates:
        found: Claimed | None = None
        if postgres:
            # A few candidates at a time: the first free one is nearly always among them.
            locked = lock_first_free(
                session=session,
                review_id=review_id,
                candidates=candidates[:LOCK_SLICE],
                wait=wait,
            )
            if locked is None:
                # every one of these is withdrawn or being claimed by someone else
                candidates = candidates[LOCK_SLICE:]
                continue
            record, machine = locked
            assert record.id is not None
            record_id = record.id
            candidates = candidates[candidates.index(record_id) + 1 :]
        else:
            record_id = candidates.pop(0)
        claim = _try_claim(
            session=session,
            review_id=review_id,
            record_id=record_id,
            user_id=user_id,
            free_slots=free[record_id],
            has_expired=record_id in expired,
            lease=lease,
            now=now,
        )
        if claim is None:
            continue
        if postgres:
            found = Claimed(claim, record, machine, machine_loaded=True)
        else:
            loaded = session.get(Record, record_id)
            if loaded is None or loaded.deleted:  # withdrawn since the order was computed
                session.connection().execute(sa.delete(Claim).where(col(Claim.id) == claim.id))
                continue
            found = Claimed(claim, loaded)
        return found, done_prefix, skipped
    return None, done_prefix, skipped


def claim_of(*, session: Session, review_id: int, record_id: int, user_id: int) -> Claim | None:
    return session.exec(
        select(Claim).where(
            Claim.review_id == review_id, Claim.record_id == record_id, Claim.user_id == user_id
        )
    ).first()


def skip(*, session: Session, review_id: int, record_id: int, user_id: int) -> None:
    """Give back an undecided claim and remember the skip so the record goes to the back."""
    claim = claim_of(session=session, review_id=review_id, record_id=record_id, user_id=user_id)
    if claim is None or claim.status != "active":
        raise NotClaimed(f"record {record_id} is not claimed by you (undecided); nothing to skip")
    session.delete(claim)
    if session.get(Skip, (review_id, record_id, user_id)) is None:
        session.add(Skip(review_id=review_id, record_id=record_id, user_id=user_id))
    session.flush()
