"""The PRISMA 2020 flow numbers of a review's current state, counted from the database.

How the tool's data maps onto the PRISMA 2020 boxes:

* **identified**, per source: PubMed (review records a sweep of this review reached),
  ClinicalTrials.gov (registrations, keyed by their NCT id, that a registry sweep stored)
  and each import run by file name (its ``import_records`` in the review). Records with no
  recorded source (added by hand or by an older version) are one ``other`` source, so
  nothing is lost.
* **duplicates removed**: the same record reached again (by another source, or twice in
  one file: one row, counted each time above) plus the non-primary members of duplicate
  groups.
* **removed for other reasons**: records PubMed withdrew (``deleted``).
* **screened / excluded**: records with a final human status (the same rules as the
  reviewer queue, ``services.reviewing.status``); those still pending, in progress, kept
  as maybe or in conflict are *awaiting screening*. Exclusions are counted per reason the
  reviewers gave (a record excluded for two reasons counts under both; none given is
  ``no reason given``).
* **reports assessed / studies included**: the tool has one human screening stage, so a
  record kept at screening is both a report assessed and an included study.

When a review has more than one succeeded sweep, the diagram follows the template for
updated reviews: records added before the latest sweep started are the previous version,
whose included records are the "studies included in previous version"; the flow counts
only the records added since.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.imports import DUPLICATE, DuplicateMember, ImportRecord, ImportRun
from services.db.models import Record, Review, ReviewRecord, Sweep
from services.db.reviewing import Decision
from services.reviewing.status import records_query

NO_REASON = "no reason given"
AWAITING = ("pending", "in_progress", "maybe", "conflict")


@dataclass(frozen=True)
class Source:
    """Where records were identified: ``database`` (PubMed), ``register`` (ClinicalTrials.gov),
    ``import`` (a file), ``other``."""

    name: str
    kind: str
    records: int


@dataclass(frozen=True)
class Flow:
    """One pass through the PRISMA boxes, over the records of one window of time."""

    sources: tuple[Source, ...]
    duplicates_removed: int
    withdrawn: int
    screened: int
    awaiting: int
    excluded: int
    excluded_by_reason: tuple[tuple[str, int], ...]
    reports_assessed: int
    included: int

    @property
    def identified(self) -> int:
        return sum(s.records for s in self.sources)


@dataclass(frozen=True)
class PrismaNumbers:
    """Everything the diagram shows; ``previous`` is set only for an updated review."""

    review: str
    title: str
    flow: Flow
    previous_included: int | None = None
    since: datetime | None = None

    @property
    def updated(self) -> bool:
        return self.previous_included is not None

    @property
    def total_included(self) -> int:
        return self.flow.included + (self.previous_included or 0)


def prisma_numbers(*, session: Session, review: Review, required: int) -> PrismaNumbers:
    """The review's PRISMA numbers now; ``required`` is its protocol's decisions per record."""
    assert review.id is not None
    since = update_cut(session=session, review_id=review.id)
    flow = flow_numbers(session=session, review_id=review.id, required=required, since=since)
    previous = None
    if since is not None:
        previous = included_count(
            session=session, review_id=review.id, required=required, before=since
        )
    return PrismaNumbers(
        review=review.slug, title=review.title, flow=flow, previous_included=previous, since=since
    )


def update_cut(*, session: Session, review_id: int) -> datetime | None:
    """When the latest sweep started, if the review has had more than one; else ``None``."""
    starts = session.execute(
        sa.select(col(Sweep.started_at))
        .where(col(Sweep.review_id) == review_id, col(Sweep.state) == "succeeded")
        .order_by(col(Sweep.started_at).desc())
        .limit(2)
    ).all()
    return starts[0][0] if len(starts) > 1 else None


def _window(since: datetime | None, before: datetime | None) -> list[Any]:
    """Conditions on ``ReviewRecord.added_at`` keeping one version's records."""
    out: list[Any] = []
    if since is not None:
        out.append(col(ReviewRecord.added_at) >= since)
    if before is not None:
        out.append(col(ReviewRecord.added_at) < before)
    return out


def _is_duplicate(review_id: int) -> Any:
    """SQL: the review record is a non-primary member of a duplicate group."""
    return sa.exists().where(
        col(DuplicateMember.review_id) == review_id,
        col(DuplicateMember.record_id) == col(ReviewRecord.record_id),
        col(DuplicateMember.role) == DUPLICATE,
    )


def _repeats() -> Any:
    """SQL: good records an import run read again within its own file (stored once)."""
    return col(ImportRun.read) - col(ImportRun.bad) - col(ImportRun.imported)


def _count(session: Session, review_id: int, window: list[Any], *where: Any) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(ReviewRecord)
        .where(col(ReviewRecord.review_id) == review_id, *window, *where)
    )
    return int(session.execute(stmt).scalar_one())


def sources(
    *, session: Session, review_id: int, since: datetime | None = None,
    before: datetime | None = None,
) -> tuple[Source, ...]:  # fmt: skip
    """Records identified per source, in the order PRISMA lists them (databases first)."""
    window = _window(since, before)
    swept = sa.or_(
        col(ReviewRecord.first_sweep_id).is_not(None), col(ReviewRecord.last_sweep_id).is_not(None)
    )
    out = [Source("PubMed", "database", _count(session, review_id, window, swept))]
    # Trial registrations (keyed by their NCT id) come from ClinicalTrials.gov sweeps.
    registered = sa.exists().where(
        col(Record.id) == col(ReviewRecord.record_id), col(Record.pmid).like("NCT%")
    )
    registrations = _count(session, review_id, window, registered, sa.not_(swept))
    if registrations:
        out.append(Source("ClinicalTrials.gov", "register", registrations))
    stored = dict(
        session.execute(
            sa.select(col(ImportRecord.import_id), sa.func.count())
            .join(
                ReviewRecord,
                sa.and_(
                    col(ReviewRecord.record_id) == col(ImportRecord.record_id),
                    col(ReviewRecord.review_id) == review_id,
                ),
            )
            .join(ImportRun, col(ImportRun.id) == col(ImportRecord.import_id))
            .where(col(ImportRun.review_id) == review_id, *window)
            .group_by(col(ImportRecord.import_id))
        ).all()
    )
    runs = session.execute(
        sa.select(
            col(ImportRun.id), col(ImportRun.file_name), col(ImportRun.created_at), _repeats()
        )
        .where(col(ImportRun.review_id) == review_id)
        .order_by(col(ImportRun.id))
    ).all()
    names = Counter(name for _, name, _, _ in runs)
    for run_id, name, created, repeats in runs:
        in_window = (since is None or created >= since) and (before is None or created < before)
        count = int(stored.get(run_id, 0)) + (max(int(repeats or 0), 0) if in_window else 0)
        if count:  # the same file name twice: tell the runs apart
            label = name if names[name] == 1 else f"{name} (import {run_id})"
            out.append(Source(label, "import", count))
    imported = sa.exists().where(
        col(ImportRecord.record_id) == col(ReviewRecord.record_id),
        col(ImportRecord.import_id) == col(ImportRun.id),
        col(ImportRun.review_id) == review_id,
    )
    other = _count(
        session, review_id, window, sa.not_(swept), sa.not_(imported), sa.not_(registered)
    )
    if other:
        out.append(Source("other", "other", other))
    return tuple(out)


def _statuses(session: Session, review_id: int, required: int, window: list[Any]) -> dict[int, str]:
    """Each record of the screening pool (not a duplicate, not withdrawn) with its status.

    Fetched once as rows, so the per-status counts and the excluded records' reasons need
    no second pass over the review's decisions."""
    base = records_query(review_id=review_id, required=required).subquery("base")
    rows = session.execute(
        sa.select(base.c.id, base.c.status)
        .join(
            ReviewRecord,
            sa.and_(
                col(ReviewRecord.record_id) == base.c.id,
                col(ReviewRecord.review_id) == review_id,
            ),
        )
        .where(base.c.deleted.is_(False), sa.not_(_is_duplicate(review_id)), *window)
    ).all()
    return {int(record_id): str(status) for record_id, status in rows}


def excluded_by_reason(
    *, session: Session, review_id: int, excluded: set[int]
) -> tuple[tuple[str, int], ...]:
    """Excluded records per reason their current exclude decisions give, most frequent first."""
    rows = session.execute(
        sa.select(col(Decision.record_id), col(Decision.reasons)).where(
            col(Decision.review_id) == review_id,
            col(Decision.is_current).is_(True),
            col(Decision.decision) == "exclude",
        )
    ).all()
    reasons: dict[int, set[str]] = {}
    for record_id, given in rows:
        if record_id in excluded:
            reasons.setdefault(int(record_id), set()).update(given or ())
    tally: Counter[str] = Counter()
    for given in reasons.values():
        tally.update(given or {NO_REASON})
    tally[NO_REASON] += len(excluded) - len(reasons)  # excluded by a resolution alone
    return tuple(
        sorted(((r, n) for r, n in tally.items() if n), key=lambda item: (-item[1], item[0]))
    )


def flow_numbers(
    *, session: Session, review_id: int, required: int, since: datetime | None = None,
    before: datetime | None = None,
) -> Flow:  # fmt: skip
    """The PRISMA flow over the review's records added in ``[since, before)``."""
    window = _window(since, before)
    found = sources(session=session, review_id=review_id, since=since, before=before)
    records = _count(session, review_id, window)
    grouped = _count(session, review_id, window, _is_duplicate(review_id))
    withdrawn = _count(
        session,
        review_id,
        window,
        sa.not_(_is_duplicate(review_id)),
        sa.exists().where(
            col(Record.id) == col(ReviewRecord.record_id), col(Record.deleted).is_(True)
        ),
    )
    pool = _statuses(session, review_id, required, window)
    by_status = Counter(pool.values())
    included, excluded = by_status["included"], by_status["excluded"]
    excluded_ids = {record_id for record_id, status in pool.items() if status == "excluded"}
    return Flow(
        sources=found,
        duplicates_removed=sum(s.records for s in found) - records + grouped,
        withdrawn=withdrawn,
        screened=included + excluded,
        awaiting=sum(by_status[s] for s in AWAITING),
        excluded=excluded,
        excluded_by_reason=excluded_by_reason(
            session=session, review_id=review_id, excluded=excluded_ids
        ),
        reports_assessed=included,
        included=included,
    )


def included_count(
    *, session: Session, review_id: int, required: int, before: datetime | None = None
) -> int:
    """Included records (not duplicates, not withdrawn) among those added before ``before``."""
    pool = _statuses(session, review_id, required, _window(None, before))
    return sum(1 for status in pool.values() if status == "included")
