"""The reviewer queue: ranking, claims with leases, decisions, conflicts, resolutions, counts.

Every function takes ``session=`` keyword-only and leaves committing to the
caller, so one request is one transaction and nothing is ever half-written.

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

import functools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.db.models import Record, Review, ReviewRecord, Screening, utcnow
from services.db.reviewing import DECISIONS, Claim, Decision, Resolution, Skip

log = logging.getLogger(__name__)

CHUNK = 200
LOCK_SLICE = 16
STATUSES = ("pending", "in_progress", "conflict", "included", "excluded")


class QueueError(ValueError):
    """A request the queue refuses; the message says what is wrong and what to do."""

    status_code = 422


class NotClaimed(QueueError):
    """A decision on a record the caller holds no claim on."""


class InvalidDecision(QueueError):
    """A decision value or reason that the review does not know."""


class StateConflict(QueueError):
    """The record is in a state that forbids the request (already resolved, not a conflict)."""

    status_code = 409


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; every timestamp here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dialect_insert(session: Session) -> Any:
    """The ``insert`` with ``on_conflict_do_nothing`` for the session's database."""
    return insert_for(dialect_name(session))


def insert_for(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def among_param(column: Any, name: str, dialect: str) -> Any:
    """``column IN :name``; on PostgreSQL as ``= ANY(:name)``, one array parameter however
    many ids, so the statement text (and its compiled and prepared forms) is the same for
    every call. For statements built once (see :func:`prebuilt`) and run many times."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.func.any(sa.bindparam(name, type_=ARRAY(sa.Integer)))
    return col(column).in_(sa.bindparam(name, expanding=True))


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


# The statements of the two calls a reviewer makes all day (``/next`` and a decision) are
# built once per process and run with parameters: building a SQLAlchemy statement and
# its cache key took longer than PostgreSQL took to run it.
prebuilt = functools.cache


# --- ranking ---------------------------------------------------------------------------


def current_screening_join(review_id: int) -> Any:
    """Join condition picking the machine screening of a record's current content and protocol."""
    return sa.and_(
        col(Screening.review_id) == review_id,
        col(Screening.record_id) == col(Record.id),
        col(Screening.protocol_version) == col(Review.protocol_version),
        col(Screening.content_hash) == col(Record.content_hash),
    )


def rank_queue(
    *, session: Session, review_id: int, required: int, limit: int | None = None
) -> list[int]:
    """Ids of the records that still need human decisions, best first.

    This is the one place that decides the order, so an active-learning ranker
    can replace it: the highest machine ``p_include`` first where screening
    exists, then the newest records. Records with all their decisions or a
    resolution are left out; records held by others are not (their leases may
    lapse) -- the claim step skips them. ``limit`` keeps only the head of the order.
    """
    done = (
        sa.select(col(Claim.record_id))
        .where(col(Claim.review_id) == review_id, col(Claim.status) == "done")
        .group_by(col(Claim.record_id))
        .having(sa.func.count() >= required)
    )
    resolved = sa.select(col(Resolution.record_id)).where(col(Resolution.review_id) == review_id)
    stmt = (
        sa.select(col(ReviewRecord.record_id))
        .join(Record, col(Record.id) == ReviewRecord.record_id)
        .where(
            col(ReviewRecord.review_id) == review_id,
            col(Record.deleted).is_(False),
            col(ReviewRecord.record_id).not_in(done),
            col(ReviewRecord.record_id).not_in(resolved),
        )
        # ReviewRecord.priority is the current screening's p_include (UNSCREENED before
        # screening), so this walks ix_review_records_queue_order instead of sorting.
        .order_by(
            col(ReviewRecord.priority).desc(),
            col(ReviewRecord.added_at).desc(),
            col(ReviewRecord.record_id).desc(),
        )
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


@dataclass
class Ranking:
    """One computed order; ``start`` skips the prefix already known to be fully decided."""

    ids: list[int]
    built: float = field(default_factory=time.monotonic)
    start: int = 0


class RankedQueue:
    """Per-process cache of the head of :func:`rank_queue`, rebuilt every ``ttl`` seconds.

    Ranking 100,000 records takes a few hundred milliseconds, far too slow for
    every ``/next``. The cache only supplies the order; correctness comes from
    the claim constraints, so a stale order can cost a retry but never a double
    assignment. A stale order is rebuilt in a background thread while requests keep
    using it. ``fresh=True`` (used when the cached head is used up, before answering
    "nothing left") rebuilds at once unless the order is under ``min_age`` old.
    """

    def __init__(self, ttl: float = 30.0, head: int = 2000, min_age: float = 1.0) -> None:
        self.ttl = ttl
        self.head = head
        self.min_age = min_age
        self._rankings: dict[int, Ranking] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, review_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(review_id, threading.Lock())

    def _usable(self, ranking: Ranking | None, fresh: bool) -> bool:
        if ranking is None:
            return False
        age = time.monotonic() - ranking.built
        return age < (self.min_age if fresh else self.ttl)

    def get(
        self, *, session: Session, review_id: int, required: int, fresh: bool = False
    ) -> Ranking:
        ranking = self._rankings.get(review_id)
        if self._usable(ranking, fresh):
            return ranking  # type: ignore[return-value]  # _usable is False for None
        lock = self._lock(review_id)
        bind = session.get_bind()
        if ranking is not None and not fresh:
            # Merely old: rebuild it in the background and keep serving this one meanwhile,
            # so no reviewer waits for the ranking query. (A session bound to one
            # connection rather than an engine cannot lend it to another thread.)
            if not isinstance(bind, sa.Engine):
                if lock.acquire(blocking=False):
                    try:
                        self._rebuild(session=session, review_id=review_id, required=required)
                    finally:
                        lock.release()
                return self._rankings.get(review_id, ranking)
            if lock.acquire(blocking=False):
                thread = threading.Thread(
                    target=self._rebuild_in_background,
                    args=(lock, bind, review_id, required),
                    name=f"rank-review-{review_id}",
                    daemon=True,
                )
                try:
                    thread.start()
                except BaseException:
                    lock.release()
                    raise
            return ranking
        with lock:
            current = self._rankings.get(review_id)
            if self._usable(current, fresh):
                return current  # type: ignore[return-value]
            return self._rebuild(session=session, review_id=review_id, required=required)

    def _rebuild(self, *, session: Session, review_id: int, required: int) -> Ranking:
        ids = rank_queue(session=session, review_id=review_id, required=required, limit=self.head)
        built = Ranking(ids)
        self._rankings[review_id] = built
        return built

    def _rebuild_in_background(
        self, lock: threading.Lock, bind: sa.Engine, review_id: int, required: int
    ) -> None:
        try:
            with Session(bind) as session:
                self._rebuild(session=session, review_id=review_id, required=required)
        except Exception:  # the old order stays in use; the next request tries again
            log.warning("re-ranking review %s failed", review_id, exc_info=True)
        finally:
            lock.release()

    def invalidate(self, review_id: int | None = None) -> None:
        if review_id is None:
            self._rankings.clear()
        else:
            self._rankings.pop(review_id, None)


# --- claims ----------------------------------------------------------------------------


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


def _lock_first_free(
    *, session: Session, review_id: int, candidates: list[int], wait: bool = False
) -> tuple[Record, Screening | None] | None:
    """PostgreSQL: lock the first candidate no other claim is working on, and load it.

    Without this, every reviewer would queue behind the first one's uncommitted insert
    on the same top record (the unique index makes them wait); ``SKIP LOCKED`` passes
    over the records others are claiming this instant. The lock (on the record's
    membership row) is held until commit, which is a moment away. With ``wait`` the
    first candidate is waited for instead (the last look before "nothing left").
    Withdrawn records are passed over. The one statement also returns the record and
    its machine screening (as :func:`machine_screening` picks it), which the reviewer
    is shown next, so the claim needs no further reads.
    """
    row = session.execute(
        _lock_first_free_stmt(wait), {"review_id": review_id, "ids": candidates}
    ).first()
    return (row[0], row[1]) if row is not None else None


@prebuilt
def _lock_first_free_stmt(wait: bool) -> Any:
    from sqlalchemy.dialects.postgresql import ARRAY

    review_id = sa.bindparam("review_id", type_=sa.Integer)
    ids = sa.bindparam("ids", type_=ARRAY(sa.Integer))
    version = (
        sa.select(col(Review.protocol_version)).where(col(Review.id) == review_id).scalar_subquery()
    )
    machine = (
        select(Screening)
        .where(col(Screening.review_id) == review_id, col(Screening.record_id) == col(Record.id))
        .order_by(*_machine_order(col(Record.content_hash), version))
        .limit(1)
        .lateral("machine")
    )
    return (
        sa.select(Record, aliased(Screening, machine))
        .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
        .outerjoin(machine, sa.true())
        .where(
            col(ReviewRecord.review_id) == review_id,
            col(ReviewRecord.record_id) == sa.func.any(ids),
            col(Record.deleted).is_(False),
        )
        .order_by(sa.func.array_position(ids, col(ReviewRecord.record_id)))
        .limit(1)
        .with_for_update(skip_locked=not wait, key_share=True, of=ReviewRecord)
    )


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
        conn.execute(_delete_expired_stmt(), params)
    insert = _insert_claim_stmt(dialect_name(session))
    params.update(user=user_id, expires=now + lease)
    for slot in free_slots:
        row = conn.execute(insert, {**params, "slot_no": slot}).first()
        if row is not None:
            return Claim(**row._mapping)
    return None


@prebuilt
def _delete_expired_stmt() -> Any:
    return sa.delete(Claim).where(
        col(Claim.review_id) == sa.bindparam("review"),
        col(Claim.record_id) == sa.bindparam("record"),
        col(Claim.status) == "active",
        col(Claim.expires_at) <= sa.bindparam("now"),
    )


@prebuilt
def _insert_claim_stmt(dialect: str) -> Any:
    return (
        insert_for(dialect)(Claim)
        .values(
            review_id=sa.bindparam("review"),
            record_id=sa.bindparam("record"),
            user_id=sa.bindparam("user"),
            slot=sa.bindparam("slot_no"),
            status="active",
            claimed_at=sa.bindparam("now"),
            expires_at=sa.bindparam("expires"),
        )
        .on_conflict_do_nothing()
        .returning(*Claim.__table__.columns)  # type: ignore[attr-defined]
    )


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
        _chunk_states_stmt(dialect_name(session), look_for_held),
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
            locked = _lock_first_free(
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


@prebuilt
def _chunk_states_stmt(dialect: str, look_for_held: bool) -> Any:
    """The claims on a window of records, the caller's skips among them and (optionally)
    the caller's live lease anywhere in the review, as rows of one union."""
    review_id = sa.bindparam("review_id", type_=sa.Integer)
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    claims = sa.select(
        col(Claim.record_id),
        col(Claim.slot),
        col(Claim.user_id),
        col(Claim.status),
        col(Claim.expires_at),
    ).where(col(Claim.review_id) == review_id, among_param(Claim.record_id, "ids", dialect))
    skips = sa.select(
        col(Skip.record_id),
        sa.literal(0),
        col(Skip.user_id),
        sa.literal("skipped"),
        sa.cast(sa.null(), sa.DateTime(timezone=True)),
    ).where(
        col(Skip.review_id) == review_id,
        col(Skip.user_id) == user_id,
        among_param(Skip.record_id, "ids", dialect),
    )
    parts = [claims, skips]
    if look_for_held:
        parts.append(
            sa.select(
                col(Claim.record_id),
                col(Claim.slot),
                col(Claim.user_id),
                sa.literal("held"),
                col(Claim.expires_at),
            ).where(
                col(Claim.review_id) == review_id,
                col(Claim.user_id) == user_id,
                col(Claim.status) == "active",
                col(Claim.expires_at) > sa.bindparam("now"),
            )
        )
    return sa.union_all(*parts)


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


# --- decisions -------------------------------------------------------------------------


def validate_decision(decision: str, reasons: Sequence[str], criteria: Sequence[str]) -> None:
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be 'include' or 'exclude', got {decision!r}")
    if decision == "include" and reasons:
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
    now: datetime | None = None,
) -> Decision:
    """Store a decision; a reviewer's second one replaces the first, which stays on file."""
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
    values = row.model_dump(exclude={"id", "ended_at", "end_reason"})
    row.id = conn.execute(_insert_decision_stmt(), values).scalar_one()
    return row


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
    return sa.insert(Decision).returning(col(Decision.id))


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


# --- status, conflicts, resolutions ----------------------------------------------------


def status_columns(review_id: int, required: int) -> tuple[Any, Any, Any]:
    """(decision aggregate subquery, resolution subquery, status CASE) for one review."""
    agg = (
        sa.select(
            col(Decision.record_id).label("record_id"),
            sa.func.count().label("n"),
            sa.func.sum(sa.case((col(Decision.decision) == "include", 1), else_=0)).label("n_inc"),
        )
        .where(col(Decision.review_id) == review_id, col(Decision.is_current).is_(True))
        .group_by(col(Decision.record_id))
        .subquery("agg")
    )
    res = (
        sa.select(col(Resolution.record_id), col(Resolution.decision))
        .where(col(Resolution.review_id) == review_id)
        .subquery("res")
    )
    n = sa.func.coalesce(agg.c.n, 0)
    status = sa.case(
        (res.c.decision == "include", "included"),
        (res.c.decision == "exclude", "excluded"),
        (sa.and_(n >= required, agg.c.n_inc == n), "included"),
        (sa.and_(n >= required, agg.c.n_inc == 0), "excluded"),
        (n >= required, "conflict"),
        (n > 0, "in_progress"),
        else_="pending",
    )
    return agg, res, status


def records_query(
    *,
    review_id: int,
    required: int,
    status: str | None = None,
    q: str | None = None,
) -> Any:
    """Rows (Record, status, p_include) of a review; the base of listing, export and counts."""
    agg, res, status_col = status_columns(review_id, required)
    stmt = (
        sa.select(Record, status_col.label("status"), col(Screening.p_include))
        .select_from(ReviewRecord)
        .join(Record, col(Record.id) == ReviewRecord.record_id)
        .join(Review, col(Review.id) == ReviewRecord.review_id)
        .outerjoin(Screening, current_screening_join(review_id))
        .outerjoin(agg, agg.c.record_id == Record.id)
        .outerjoin(res, res.c.record_id == Record.id)
        .where(col(ReviewRecord.review_id) == review_id)
    )
    if status == "screened":
        stmt = stmt.where(status_col.in_(("included", "excluded")))
    elif status == "withdrawn":
        stmt = stmt.where(col(Record.deleted).is_(True))
    elif status:
        stmt = stmt.where(status_col == status, col(Record.deleted).is_(False))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Record.title).like(like),
                sa.func.lower(sa.func.coalesce(Record.abstract, "")).like(like),
                col(Record.pmid) == q.strip(),
                sa.func.lower(sa.func.coalesce(Record.doi, "")) == q.strip().lower(),
            )
        )
    return stmt


def list_records(
    *,
    session: Session,
    review_id: int,
    required: int,
    status: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[tuple[Record, str, float | None]]]:
    stmt = records_query(review_id=review_id, required=required, status=status, q=q)
    total = session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(col(ReviewRecord.added_at).desc(), col(Record.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return int(total), [(r[0], r[1], r[2]) for r in rows]


def record_status(*, session: Session, review_id: int, record_id: int, required: int) -> str:
    """One record's status, by the same rules as :func:`status_columns`, in one small query."""
    row = (
        session.connection()
        .execute(_record_status_stmt(), {"review_id": review_id, "record_id": record_id})
        .one()
    )
    n, n_inc, resolved = int(row[0] or 0), int(row[1] or 0), row[2]
    if resolved:
        return "included" if resolved == "include" else "excluded"
    if n >= required:
        return "included" if n_inc == n else "excluded" if n_inc == 0 else "conflict"
    return "in_progress" if n else "pending"


@prebuilt
def _record_status_stmt() -> Any:
    review_id = sa.bindparam("review_id", type_=sa.Integer)
    record_id = sa.bindparam("record_id", type_=sa.Integer)
    resolution = (
        sa.select(col(Resolution.decision))
        .where(col(Resolution.review_id) == review_id, col(Resolution.record_id) == record_id)
        .scalar_subquery()
    )
    return sa.select(
        sa.func.count(col(Decision.id)),
        sa.func.sum(sa.case((col(Decision.decision) == "include", 1), else_=0)),
        resolution,
    ).where(
        col(Decision.review_id) == review_id,
        col(Decision.record_id) == record_id,
        col(Decision.is_current).is_(True),
    )


def counts(*, session: Session, review_id: int, required: int) -> dict[str, Any]:
    """PRISMA-style counts; ``estimated_recall`` only once machine screening exists."""
    base = records_query(review_id=review_id, required=required).subquery()
    by_status = dict(
        session.execute(
            sa.select(base.c.status, sa.func.count())
            .where(base.c.deleted.is_(False))
            .group_by(base.c.status)
        ).all()
    )
    totals = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((base.c.deleted.is_(True), 1), else_=0)),
            sa.func.count(base.c.doi) - sa.func.count(sa.distinct(sa.func.lower(base.c.doi))),
            sa.func.count(base.c.p_include),
            sa.func.sum(
                sa.case(
                    (
                        sa.and_(
                            base.c.status.in_(("pending", "in_progress")),
                            base.c.deleted.is_(False),
                        ),
                        base.c.p_include,
                    ),
                    else_=0.0,
                )
            ),
        )
    ).one()
    identified, withdrawn, duplicates, machine_screened, expected_left = totals
    out: dict[str, Any] = {s: int(by_status.get(s, 0)) for s in STATUSES}
    included, excluded = out["included"], out["excluded"]
    out.update(
        identified=int(identified or 0),
        withdrawn=int(withdrawn or 0),
        duplicates=int(duplicates or 0),
        screened=included + excluded,
        conflicts=out.pop("conflict"),
        remaining=out["pending"] + out["in_progress"],
        machine_screened=int(machine_screened or 0),
    )
    active = out["identified"] - out["withdrawn"]
    out["progress"] = round(out["screened"] / active, 4) if active else 0.0
    out["estimated_recall"] = None
    if machine_screened:
        expected = float(expected_left or 0.0)
        out["estimated_recall"] = (
            round(included / (included + expected), 4) if included + expected > 0 else 1.0
        )
    return out


def conflicts(*, session: Session, review_id: int, required: int) -> list[Record]:
    stmt = records_query(review_id=review_id, required=required, status="conflict")
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
    """A resolver settles a conflict; only records in conflict can be resolved, once."""
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be 'include' or 'exclude', got {decision!r}")
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
    return row


def screenings_of(*, session: Session, review_id: int, record_id: int) -> list[Screening]:
    return list(
        session.exec(
            select(Screening)
            .where(Screening.review_id == review_id, Screening.record_id == record_id)
            .order_by(col(Screening.created_at).desc(), col(Screening.id).desc())
        )
    )


def _machine_order(content_hash: Any, protocol_version: Any) -> list[Any]:
    """The screening shown with a record: its current content and protocol's, else the newest."""
    current = sa.and_(
        col(Screening.content_hash) == content_hash,
        col(Screening.protocol_version) == protocol_version,
    )
    return [
        sa.case((current, 0), else_=1),
        col(Screening.created_at).desc(),
        col(Screening.id).desc(),
    ]


def machine_screening(
    *, session: Session, review_id: int, record: Record, protocol_version: str
) -> Screening | None:
    """The screening of the record's current content and protocol, else the newest one.

    The same choice as ``views.current_screening`` over :func:`screenings_of`, in one
    row instead of the record's whole screening history.
    """
    return session.exec(
        select(Screening)
        .where(Screening.review_id == review_id, Screening.record_id == record.id)
        .order_by(*_machine_order(record.content_hash, protocol_version))
        .limit(1)
    ).first()
