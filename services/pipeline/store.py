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
from services.records import RetractionStatus
from services.search.fulltext import insert_indexed_in_bulk

TABLES = SQLModel.metadata.tables


@dataclass
class StoreOutcome:
    """What one batch did; ``changed_ids`` are the records to (re-)screen."""

    counts: Counter[str] = field(default_factory=Counter)
    changed_ids: list[int] = field(default_factory=list)
    stored_pmids: set[str] = field(default_factory=set)


def content_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def insert_ignoring_conflicts(
    session: Session,
    table: sa.Table,
    values: dict[str, Any] | list[dict[str, Any]],
    keys: Sequence[str],
) -> None:
    """INSERT (one row or many) that keeps existing rows when the natural key is already there."""
    if isinstance(values, list) and not values:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=keys)
    if isinstance(values, list):
        session.execute(statement, values)
    else:
        session.execute(statement.values(**values))


def ensure_review(*, session: Session, protocol: Protocol) -> Review:
    """The review row for a protocol, created on first use and kept in step with the file."""
    insert_ignoring_conflicts(
        session,
        TABLES["reviews"],
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
        "retracted": parsed.retraction_status is RetractionStatus.RETRACTED,
        "deleted": False,
    }


def store_records(
    *,
    session: Session,
    records: Iterable[ParsedRecord],
    review_id: int,
    sweep_id: int | None,
) -> StoreOutcome:
    """Upsert a batch in a few statements; only a newer or equal version replaces a record."""
    outcome = StoreOutcome()
    batch = {r.pmid: r for r in records}
    if not batch:
        return outcome
    now = utcnow()
    prepared = {pmid: _prepare(parsed) for pmid, parsed in batch.items()}
    known = _current(session, list(batch))
    fresh = [pmid for pmid in batch if pmid not in known]
    if fresh:
        rows = [{**prepared[p][1], "created_at": now, "updated_at": now} for p in fresh]
        insert_indexed_in_bulk(
            session, lambda: insert_ignoring_conflicts(session, TABLES["records"], rows, ["pmid"])
        )
    inserted = _current(session, fresh) if fresh else {}
    versions: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    ids: list[int] = []
    for pmid, parsed in batch.items():
        data, columns = prepared[pmid]
        digest = columns["content_hash"]
        if pmid in inserted:
            record_id, stored_hash, _, _ = inserted[pmid]
            # Another worker may have inserted this PMID first: then it is not ours to count.
            status = "new" if stored_hash == digest else "unchanged"
        else:
            record_id, stored_hash, stored_version, deleted = known[pmid]
            if (stored_hash == digest and not deleted) or parsed.version < stored_version:
                status = "unchanged"  # an older version must never overwrite a newer one
            else:
                updates.append({**columns, "updated_at": now, "rid": record_id})
                status = "updated"
        if status != "unchanged":
            versions.append(
                {
                    "record_id": record_id,
                    "version": parsed.version,
                    "content_hash": digest,
                    "data": data,
                    "sweep_id": sweep_id,
                    "created_at": now,
                }
            )
            outcome.changed_ids.append(record_id)
        ids.append(record_id)
        outcome.counts[status] += 1
        outcome.stored_pmids.add(pmid)
    _update_records(session, updates)
    insert_ignoring_conflicts(
        session, TABLES["record_versions"], versions, ["record_id", "content_hash"]
    )
    _link(session, review_id=review_id, record_ids=ids, sweep_id=sweep_id, now=now)
    session.flush()
    return outcome


def _update_records(session: Session, rows: list[dict[str, Any]]) -> None:
    """Replace revised records in one executemany (one UPDATE per record cost 0.8 ms each)."""
    if not rows:
        return
    table = TABLES["records"]  # Core, so the executemany stays plain
    session.execute(table.update().where(table.c.id == sa.bindparam("rid")), rows)


def _prepare(parsed: ParsedRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    data = parsed.to_json()
    return data, _columns(parsed, data, content_hash(data))


def _current(session: Session, pmids: list[str]) -> dict[str, tuple[int, str, int, bool]]:
    """(id, content hash, version, deleted) of the stored records among ``pmids``."""
    rows = session.execute(
        sa.select(
            col(Record.pmid),
            col(Record.id),
            col(Record.content_hash),
            col(Record.version),
            col(Record.deleted),
        ).where(col(Record.pmid).in_(pmids))
    )
    return {pmid: (rid, digest, version, deleted) for pmid, rid, digest, version, deleted in rows}


def _link(
    session: Session, *, review_id: int, record_ids: list[int], sweep_id: int | None, now: Any
) -> None:
    """Add the records to the review (once each) and note which sweep saw them last.

    One upsert: a new link gets both sweep ids, an existing one only its ``last_sweep_id``
    (without a sweep, existing links are left as they are)."""
    if not record_ids:
        return
    rows = [
        {
            "review_id": review_id,
            "record_id": record_id,
            "first_sweep_id": sweep_id,
            "last_sweep_id": sweep_id,
            "added_at": now,
        }
        for record_id in record_ids
    ]
    keys = ["review_id", "record_id"]
    if sweep_id is None:
        insert_ignoring_conflicts(session, TABLES["review_records"], rows, keys)
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(TABLES["review_records"])
    session.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={"last_sweep_id": statement.excluded.last_sweep_id}
        ),
        rows,
    )


def mark_deleted(*, session: Session, pmids: Iterable[str]) -> int:
    """PubMed withdrew these PMIDs: keep the rows (decisions refer to them) but flag them."""
    pmids = list(pmids)
    if not pmids:
        return 0
    result = session.execute(
        sa.update(Record)
        .where(col(Record.pmid).in_(pmids), col(Record.deleted).is_(False))
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
    raw: bytes | None = None,
) -> None:
    """One thing a sweep could not store, with what it got (``xml`` parsed, ``raw`` as sent)."""
    session.add(
        SweepProblem(sweep_id=sweep_id, pmid=pmid, kind=kind, reason=reason, xml=xml, raw=raw)
    )


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
