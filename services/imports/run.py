"""One import run: read a file, store its records as sweeps do, screen them, deduplicate.

Records are stored under their natural key (``classifiers.dedup.natural_key``: the PMID,
else the DOI, else title + year + first author) with ``store_records``, so the same file
run again changes nothing and a record's later revision is an update. A record that a
PubMed sweep already holds is never overwritten by a poorer export of it: it is linked to
the review and counted as a duplicate. Each batch commits with the run's counters, so a
crash loses at most one batch, and the run's row lists every bad record with its place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from classifiers.dedup import natural_key
from services.alerts.events import raise_record_alerts
from services.db.imports import ImportRun
from services.db.models import Record, RecordVersion, Review, utcnow
from services.imports.decisions import History, restore_histories
from services.imports.items import Bad, Deleted, FormatError, Good, ReadItem
from services.pipeline import store
from services.pipeline.dedup import deduplicate_review
from services.pipeline.jobs import SweepScreening
from services.protocols import Protocol
from services.reviewing.status import record_status

BATCH = 1000
MAX_PROBLEMS = 10_000  # listed on the run's row; the count goes on past it
COUNTS = ("read", "imported", "new", "updated", "unchanged", "duplicates", "bad")


@dataclass
class ImportReport:
    import_id: int
    file_name: str
    format: str
    counts: dict[str, int] = field(default_factory=dict)
    deleted: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)
    screened: int = 0
    duplicate_groups: int = 0
    already_imported: bool = False
    screening_error: str | None = None  # what left records unscreened (screened later)
    # with --with-decisions: what came back of the file's human decisions
    decisions_restored: int = 0
    resolutions_restored: int = 0
    accounts_created: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file": self.file_name,
            "format": self.format,
            **{name: self.counts.get(name, 0) for name in COUNTS},
            "deleted": self.deleted,
            "screened": self.screened,
            "duplicate_groups": self.duplicate_groups,
            "already_imported": self.already_imported,
            "screening_error": self.screening_error,
            "decisions_restored": self.decisions_restored,
            "resolutions_restored": self.resolutions_restored,
            "accounts_created": self.accounts_created,
            "problems": self.problems,
        }


def _report(run: ImportRun, **extra: Any) -> ImportReport:
    assert run.id is not None
    return ImportReport(
        import_id=run.id,
        file_name=run.file_name,
        format=run.format,
        counts={name: int(getattr(run, name)) for name in COUNTS},
        problems=list(run.problems),
        **extra,
    )


def import_items(
    *,
    sessions: sessionmaker[Session],
    protocol: Protocol,
    screening: SweepScreening | None,
    items: Iterable[ReadItem],
    file_name: str,
    fmt: str,
    content_hash: str,
    progress: Callable[[int], None] | None = None,
    with_decisions: bool = False,
) -> ImportReport:
    """Store, screen (when ``screening`` is given) and deduplicate the items of one file;
    ``with_decisions`` also restores the human decisions a JSONL export carries.

    Screening is the sweeps': each stored batch goes to ``screening``, which screens it in a
    child process while the next batch is read and stored (in this one for small files),
    and the alerts of the living loop are raised once every verdict is in."""
    if with_decisions:  # the same file with its decisions is another import than without
        content_hash = hashlib.sha256(f"{content_hash}+decisions".encode()).hexdigest()
    with sessions() as session:
        review = store.ensure_review(session=session, protocol=protocol)
        assert review.id is not None
        done = session.exec(
            select(ImportRun).where(
                col(ImportRun.review_id) == review.id,
                col(ImportRun.content_hash) == content_hash,
                col(ImportRun.state) == "succeeded",
            )
        ).first()
        if done is not None:
            return _report(done, already_imported=True)
        run = ImportRun(
            review_id=review.id, file_name=file_name, format=fmt, content_hash=content_hash,
            state="running",
        )  # fmt: skip
        session.add(run)
        session.commit()
        assert run.id is not None
        report = ImportReport(import_id=run.id, file_name=file_name, format=fmt)
        report.counts = dict.fromkeys(COUNTS, 0)
        seen: set[str] = set()
        changed: list[int] = []  # new and revised records: screened, then maybe announced
        batch: list[Good] = []
        deletions: list[str] = []
        try:
            for item in items:
                report.counts["read"] += not isinstance(item, Deleted)
                if isinstance(item, Bad):
                    report.counts["bad"] += 1
                    if len(report.problems) < MAX_PROBLEMS:
                        report.problems.append({"where": item.row, "problem": item.problem})
                elif isinstance(item, Deleted):
                    deletions.append(item.pmid)
                else:
                    batch.append(item)
                if len(batch) >= BATCH or len(deletions) >= BATCH:
                    stored = _store_batch(
                        session, review, run, report, batch, deletions, seen, protocol,
                        with_decisions,
                    )  # fmt: skip
                    changed += stored
                    if screening is not None:
                        screening.batch(stored)
                    batch, deletions = [], []
                    if progress is not None:
                        progress(report.counts["read"])
        except FormatError:
            if screening is not None:
                screening.finish()
            _save(run, report, state="failed")
            session.add(run)
            session.commit()
            raise
        last = _store_batch(
            session, review, run, report, batch, deletions, seen, protocol, with_decisions,
        )  # fmt: skip
        changed += last
        if screening is not None:
            screening.batch(last)
            outcome = screening.finish()
            report.screened = outcome.screened
            report.screening_error = outcome.error
            _raise_alerts(session, review, protocol, changed)
        dedup = deduplicate_review(session=session, review_id=review.id)
        report.duplicate_groups = dedup.groups
        _save(run, report, state="succeeded")
        session.add(run)
        session.commit()
        return report


def _store_batch(
    session: Session,
    review: Review,
    run: ImportRun,
    report: ImportReport,
    batch: list[Good],
    deletions: list[str],
    seen: set[str],
    protocol: Protocol,
    with_decisions: bool,
) -> list[int]:
    """Store one batch and commit it with the run's counts; the ids to screen."""
    assert review.id is not None and run.id is not None
    fresh: dict[str, Good] = {}
    for good in batch:
        record = good.record
        record.pmid = natural_key(
            pmid=record.pmid, doi=record.doi, title=record.title, year=record.year,
            authors=record.authors,
        )  # fmt: skip
        if record.pmid in seen or record.pmid in fresh:
            report.counts["duplicates"] += 1  # the same record twice in one file
            continue
        fresh[record.pmid] = good
    seen.update(fresh)
    swept = _swept(session, list(fresh))
    outcome = store.store_records(
        session=session,
        records=[g.record for key, g in fresh.items() if key not in swept],
        review_id=review.id,
        sweep_id=None,
    )
    if swept:  # known from a PubMed sweep: join the review, keep PubMed's content
        store.insert_ignoring_conflicts(
            session,
            store.TABLES["review_records"],
            [{"review_id": review.id, "record_id": rid, "added_at": utcnow()}
             for rid in swept.values()],
            ["review_id", "record_id"],
        )  # fmt: skip
    for status in ("new", "updated", "unchanged"):
        report.counts[status] += outcome.counts[status]
    report.counts["duplicates"] += len(swept)
    report.counts["imported"] += len(fresh)
    ids = _ids(session, list(fresh))
    store.insert_ignoring_conflicts(
        session,
        store.TABLES["import_records"],
        [{"import_id": run.id, "record_id": ids[k], "row": fresh[k].row} for k in fresh],
        ["import_id", "record_id"],
    )
    report.deleted += store.mark_deleted(session=session, pmids=deletions)
    if with_decisions:
        _restore(session, review.id, protocol, report, fresh, ids)
    _save(run, report, state="running")
    session.add(run)
    session.commit()
    return list(outcome.changed_ids)


def _raise_alerts(session: Session, review: Review, protocol: Protocol, ids: list[int]) -> None:
    """The alerts of the living loop, as for swept records: a new or revised imported record
    the machine finds eligible is announced once (its deliveries go out on the next
    delivery pass)."""
    assert review.id is not None
    for start in range(0, len(ids), BATCH):
        raise_record_alerts(
            session=session,
            review=review,
            record_ids=ids[start : start + BATCH],
            is_included=lambda record_id: (
                record_status(
                    session=session,
                    review_id=review.id,
                    record_id=record_id,
                    required=protocol.required_decisions,
                )
                == "included"
            ),
        )
        session.commit()


def _restore(
    session: Session,
    review_id: int,
    protocol: Protocol,
    report: ImportReport,
    fresh: dict[str, Good],
    ids: dict[str, int],
) -> None:
    histories = [
        History(
            row=good.row, record_id=ids[key], decisions=good.history.get("decisions") or [],
            resolution=good.history.get("resolution"),
        )
        for key, good in fresh.items()
        if good.history
    ]  # fmt: skip
    if not histories:
        return
    restored = restore_histories(
        session=session, review_id=review_id, histories=histories,
        criteria=[c.name for c in protocol.criteria], required=protocol.required_decisions,
    )  # fmt: skip
    report.decisions_restored += restored.decisions
    report.resolutions_restored += restored.resolutions
    report.accounts_created += restored.accounts
    room = MAX_PROBLEMS - len(report.problems)
    report.problems += restored.problems[: max(room, 0)]


def _ids(session: Session, keys: list[str]) -> dict[str, int]:
    if not keys:
        return {}
    rows = session.execute(
        sa.select(col(Record.pmid), col(Record.id)).where(col(Record.pmid).in_(keys))
    )
    return {key: record_id for key, record_id in rows}


def _swept(session: Session, keys: list[str]) -> dict[str, int]:
    """Keys of records a PubMed sweep stored (a version with a sweep), with their ids."""
    if not keys:
        return {}
    rows = session.execute(
        sa.select(col(Record.pmid), col(Record.id))
        .where(col(Record.pmid).in_(keys))
        .where(
            sa.exists().where(
                col(RecordVersion.record_id) == col(Record.id),
                col(RecordVersion.sweep_id).is_not(None),
            )
        )
    )
    return {key: record_id for key, record_id in rows}


def _save(run: ImportRun, report: ImportReport, *, state: str) -> None:
    for name in COUNTS:
        setattr(run, name, report.counts.get(name, 0))
    run.problems = list(report.problems)
    run.state = state
    if state != "running":
        run.finished_at = utcnow()
