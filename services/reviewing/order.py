"""The queue's order: which records still need human decisions, best first, and its cache."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.imports import DUPLICATE, DuplicateMember
from services.db.models import Record, ReviewRecord
from services.db.reviewing import Claim, Resolution

log = logging.getLogger(__name__)


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
    duplicates = sa.select(col(DuplicateMember.record_id)).where(  # shown with their primary
        col(DuplicateMember.review_id) == review_id, col(DuplicateMember.role) == DUPLICATE
    )
    stmt = (
        sa.select(col(ReviewRecord.record_id))
        .join(Record, col(Record.id) == ReviewRecord.record_id)
        .where(
            col(ReviewRecord.review_id) == review_id,
            col(Record.deleted).is_(False),
            col(ReviewRecord.record_id).not_in(done),
            col(ReviewRecord.record_id).not_in(resolved),
            col(ReviewRecord.record_id).not_in(duplicates),
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
