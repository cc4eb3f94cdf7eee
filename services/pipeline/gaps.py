"""A review's gaps: PMIDs esearch listed that no sweep could store, until one does.

Why a table of its own: a sweep's ``SweepProblem`` rows say what went wrong in that
sweep, but the next incremental sweep searches only records entered or revised
since, so a PMID missing once would never be asked for again. A gap row carries
the PMID forward: each later sweep asks for it once more, counting attempts, and
after ``limit`` attempts it is ``given_up`` -- still listed by ``status`` and
``/healthz``, asked for again only on request (``livescreen sweep --retry-gaps``).
Storing the record deletes the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.models import RecordGap, utcnow

from .fetch import Batch

OPEN, GIVEN_UP = "open", "given_up"
MISSING_REASON = "listed by esearch but not returned by efetch"


@dataclass(frozen=True, slots=True)
class Gap:
    pmid: str
    kind: str  # "missing" or "quarantined"
    reason: str


def pair_unreadable(batch: Batch, wanted: set[str]) -> list[Gap]:
    """Missing PMIDs accounted for by quarantined records whose PMID could not be read.

    Their XML is kept, so asking again at once would only repeat them; the PMIDs
    stay gaps that later sweeps ask for again. Takes them out of ``batch.missing``.
    """
    unreadable = [p for p in batch.problems if p.pmid not in wanted]
    if not batch.missing or len(unreadable) < len(batch.missing):
        return []
    reason = f"returned as a record whose PMID could not be read: {unreadable[0].reason}"
    paired = [Gap(pmid, "quarantined", reason) for pmid in batch.missing]
    batch.missing = []
    return paired


def gaps_of_batch(batch: Batch, wanted: set[str]) -> list[Gap]:
    """The PMIDs of ``wanted`` a batch did not bring back as records, each with why."""
    found = [Gap(b.pmid, "quarantined", b.reason) for b in batch.broken]
    found += [Gap(p.pmid, "quarantined", p.reason) for p in batch.problems if p.pmid in wanted]
    found += pair_unreadable(batch, wanted)
    found += [Gap(pmid, "missing", MISSING_REASON) for pmid in batch.missing]
    return found


def note_gaps(
    *, session: Session, review_id: int, sweep_id: int, gaps: Sequence[Gap], limit: int
) -> int:
    """Record (or count one more attempt at) each gap; returns how many were just given up.

    A sweep counts as one attempt however often it meets the same PMID.
    """
    wanted = {gap.pmid: gap for gap in gaps}
    if not wanted:
        return 0
    existing = {
        row.pmid: row
        for row in session.exec(
            select(RecordGap).where(
                RecordGap.review_id == review_id, col(RecordGap.pmid).in_(list(wanted))
            )
        )
    }
    now, given_up = utcnow(), 0
    for pmid, gap in wanted.items():
        row = existing.get(pmid)
        if row is None:
            row = RecordGap(
                review_id=review_id,
                pmid=pmid,
                kind=gap.kind,
                state=OPEN,
                reason=gap.reason,
                attempts=1,
                first_sweep_id=sweep_id,
                last_sweep_id=sweep_id,
            )
        elif row.last_sweep_id != sweep_id:
            row.attempts += 1
            row.last_sweep_id = sweep_id
        row.kind, row.reason, row.updated_at = gap.kind, gap.reason, now
        if row.state == OPEN and row.attempts >= limit:
            row.state = GIVEN_UP
            given_up += 1
        session.add(row)
    session.flush()
    return given_up


def resolve_gaps(*, session: Session, review_id: int, sweep_id: int, pmids: Iterable[str]) -> int:
    """Forget the gaps of PMIDs now stored; returns how many an earlier sweep had left."""
    pmid_list = list(pmids)
    if not pmid_list:
        return 0
    rows = session.execute(
        sa.select(col(RecordGap.id), col(RecordGap.last_sweep_id)).where(
            col(RecordGap.review_id) == review_id, col(RecordGap.pmid).in_(pmid_list)
        )
    ).all()
    if not rows:
        return 0
    session.execute(sa.delete(RecordGap).where(col(RecordGap.id).in_([r[0] for r in rows])))
    return sum(1 for _id, last in rows if last != sweep_id)


def gaps_to_retry(*, session: Session, review_id: int, include_given_up: bool) -> list[str]:
    """The PMIDs a sweep asks for again: open gaps, and given-up ones when asked to."""
    states = [OPEN, GIVEN_UP] if include_given_up else [OPEN]
    return list(
        session.exec(
            select(RecordGap.pmid)
            .where(RecordGap.review_id == review_id, col(RecordGap.state).in_(states))
            .order_by(col(RecordGap.id))
        )
    )


def pmids_noted_by_sweep(*, session: Session, review_id: int, sweep_id: int) -> set[str]:
    """Gaps a sweep already recorded, so a resumed sweep does not count them twice."""
    return set(
        session.exec(
            select(RecordGap.pmid).where(
                RecordGap.review_id == review_id, RecordGap.last_sweep_id == sweep_id
            )
        )
    )


def review_gaps(*, session: Session, review_id: int) -> list[dict[str, Any]]:
    """Every current gap of a review, given-up ones first, for status pages and the CLI."""
    rows = session.exec(
        select(RecordGap).where(RecordGap.review_id == review_id).order_by(col(RecordGap.id))
    ).all()
    return [
        {
            "pmid": row.pmid,
            "kind": row.kind,
            "state": row.state,
            "reason": row.reason,
            "attempts": row.attempts,
            "first_sweep_id": row.first_sweep_id,
            "last_sweep_id": row.last_sweep_id,
        }
        for row in sorted(rows, key=lambda r: (r.state != GIVEN_UP, r.kind, r.id or 0))
    ]


def count_gaps(*, session: Session, review_id: int) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(RecordGap)
            .where(col(RecordGap.review_id) == review_id)
        ).scalar_one()
    )
