"""Upsert parsed PubMed records by PMID, keeping every distinct version.

Writes are idempotent: storing the same batch twice changes nothing, and two
workers storing the same PMID at once end with one row (the database's unique
PMID decides, via INSERT ... ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from services.db.models import Record, Review, ReviewRecord, SweepProblem, utcnow
from services.protocols import Protocol
from services.records import Record as ParsedRecord


@dataclass
class StoreOutcome:
    """What one batch did; ``changed_ids`` are the records to (re-)screen."""

    counts: Counter[str] = field(default_factory=Counter)
    changed_ids: list[int] = field(default_factory=list)
    stored_pmids: set[str] = field(default_factory=set)


def content_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def insert_ignoring_conflicts(
    session: Session, table: sa.Table, values: dict[str, Any], keys: Sequence[str]
) -> None:
    """INSERT that silently keeps the existing row when the natural key is already there."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=keys))


def ensure_review(*, session: Session, protocol: Protocol) -> Review:
    """The review row for a protocol, created on first use and kept in step with the file."""
    insert_ignoring_conflicts(
        session,
        SQLModel.metadata.tables["reviews"],
        {
            "slug": protocol.slug,
            "title": protocol.title,
            "query": protocol.query,
            "protocol_version": protocol.version,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
        ["slug"],
    )
    review = session.exec(select(Review).where(Review.slug == protocol.slug)).one()
    if (review.title, review.query, review.protocol_version) != (
        protocol.title,
        protocol.query,
        protocol.version,
    ):
        review.title, review.query = protocol.title, protocol.query
        review.protocol_version = protocol.version
        review.updated_at = utcnow()
        session.add(review)
        session.flush()
    return review


def _columns(parsed: ParsedRecord, data: dict[str, Any], digest: str) -> dict[str, Any]:
    return {
        "pmid": parsed.pmid,
        "version": parsed.version,
        "title": parsed.title,
        "abstract": parsed.abstract,
        "journal": parsed.journal,
        "year": parsed.year,
        "doi": parsed.doi,
        "data": data,
        "content_hash": digest,
        "retracted": any(link.ref_type == "RetractionIn" for link in parsed.retractions),
        "deleted": False,
    }


def store_records(
    *,
    session: Session,
    records: Iterable[ParsedRecord],
    review_id: int,
    sweep_id: int | None,
) -> StoreOutcome:
    """Upsert a batch; a record is replaced only by a newer or equal PubMed version."""
    outcome = StoreOutcome()
    batch = {r.pmid: r for r in records}
    if not batch:
        return outcome
    existing = {
        row.pmid: row
        for row in session.exec(select(Record).where(col(Record.pmid).in_(list(batch)))).all()
    }
    now = utcnow()
    for pmid, parsed in batch.items():
        data = parsed.to_json()
        digest = content_hash(data)
        row = existing.get(pmid)
        if row is None:
            insert_ignoring_conflicts(
                session,
                SQLModel.metadata.tables["records"],
                {**_columns(parsed, data, digest), "created_at": now, "updated_at": now},
                ["pmid"],
            )
            row = session.exec(select(Record).where(Record.pmid == pmid)).one()
            status = "new" if row.content_hash == digest else "unchanged"
        elif row.content_hash == digest and not row.deleted:
            status = "unchanged"
        elif parsed.version < row.version:
            status = "unchanged"  # an older version must never overwrite a newer one
        else:
            for key, value in _columns(parsed, data, digest).items():
                setattr(row, key, value)
            row.updated_at = now
            session.add(row)
            status = "updated"
        assert row.id is not None
        if status != "unchanged":
            insert_ignoring_conflicts(
                session,
                SQLModel.metadata.tables["record_versions"],
                {
                    "record_id": row.id,
                    "version": parsed.version,
                    "content_hash": digest,
                    "data": data,
                    "sweep_id": sweep_id,
                    "created_at": now,
                },
                ["record_id", "content_hash"],
            )
            outcome.changed_ids.append(row.id)
        _link(session, review_id=review_id, record_id=row.id, sweep_id=sweep_id, now=now)
        outcome.counts[status] += 1
        outcome.stored_pmids.add(pmid)
    session.flush()
    return outcome


def _link(
    session: Session, *, review_id: int, record_id: int, sweep_id: int | None, now: Any
) -> None:
    """Add the record to the review (once) and note which sweep saw it last."""
    insert_ignoring_conflicts(
        session,
        SQLModel.metadata.tables["review_records"],
        {
            "review_id": review_id,
            "record_id": record_id,
            "first_sweep_id": sweep_id,
            "last_sweep_id": sweep_id,
            "added_at": now,
        },
        ["review_id", "record_id"],
    )
    if sweep_id is not None:
        session.execute(
            sa.update(ReviewRecord)
            .where(
                col(ReviewRecord.review_id) == review_id, col(ReviewRecord.record_id) == record_id
            )
            .values(last_sweep_id=sweep_id)
        )


def mark_deleted(*, session: Session, pmids: Iterable[str]) -> int:
    """PubMed withdrew these PMIDs: keep the rows (decisions refer to them) but flag them."""
    result = session.execute(
        sa.update(Record)
        .where(col(Record.pmid).in_(list(pmids)), col(Record.deleted).is_(False))
        .values(deleted=True, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def record_problem(
    *,
    session: Session,
    sweep_id: int,
    pmid: str | None,
    kind: str,
    reason: str,
    xml: str | None = None,
) -> None:
    session.add(SweepProblem(sweep_id=sweep_id, pmid=pmid, kind=kind, reason=reason, xml=xml))


def pmids_seen_by_sweep(*, session: Session, review_id: int, sweep_id: int) -> set[str]:
    """PMIDs a sweep already stored, so a resumed sweep does not fetch them again."""
    rows = session.execute(
        sa.select(col(Record.pmid))
        .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
        .where(
            col(ReviewRecord.review_id) == review_id, col(ReviewRecord.last_sweep_id) == sweep_id
        )
    )
    return {pmid for (pmid,) in rows}


def review_records(*, session: Session, review_id: int, batch_size: int = 1000) -> Iterator[Record]:
    """A review's records in PMID order, streamed in pages so exports run in constant memory."""
    last_id = 0
    while True:
        page = session.exec(
            select(Record)
            .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
            .where(col(ReviewRecord.review_id) == review_id, col(Record.id) > last_id)
            .order_by(col(Record.id))
            .limit(batch_size)
        ).all()
        if not page:
            return
        yield from page
        last_id = page[-1].id or last_id


def export_record(row: Record) -> dict[str, Any]:
    """The interchange form of a stored record."""
    return ParsedRecord.from_json(row.data).to_export()
