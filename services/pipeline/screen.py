"""Screening of stored records with the review's criteria (the pure classifiers package).

A screening is stored per record, protocol version and record content, so a
changed protocol or a revised record is screened again and old verdicts stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from classifiers.screen import Screener
from services.db.models import Record, Review, ReviewRecord, Screening, utcnow
from services.protocols import Protocol
from services.records import EXPORT_FIELDS

LIST_FIELDS = ("publication_types", "mesh_terms", "keywords", "authors", "nct_ids")


def build_screener(protocol: Protocol) -> Screener:
    return Screener(protocol.build_criteria())


def check_record(record: Mapping[str, Any]) -> str | None:
    """Why a record in the interchange format cannot be screened, or None when it can."""
    title, abstract = record.get("title"), record.get("abstract")
    if title is not None and not isinstance(title, str):
        return f"'title' must be a string, got {type(title).__name__}"
    if abstract is not None and not isinstance(abstract, str):
        return f"'abstract' must be a string or null, got {type(abstract).__name__}"
    if not (title or abstract):
        return "record has neither 'title' nor 'abstract'"
    for name in LIST_FIELDS:
        value = record.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return f"'{name}' must be a list of strings"
    return None


@dataclass
class ScreenOutcome:
    """What a screening step did; a sweep stores it so unscreened records are never silent."""

    screened: int = 0
    unscreened: int = 0  # the review's records still without a current screening
    error: str | None = None


def _pending(review: Review, protocol: Protocol) -> Any:
    """Records of the review with no screening for this protocol version and content."""
    already = (
        sa.select(col(Screening.id))
        .where(
            col(Screening.review_id) == review.id,
            col(Screening.record_id) == col(Record.id),
            col(Screening.protocol_version) == protocol.version,
            col(Screening.content_hash) == col(Record.content_hash),
        )
        .exists()
    )
    return (
        sa.select(Record)
        .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
        .where(col(ReviewRecord.review_id) == review.id, ~already)
    )


def count_unscreened(*, session: Session, review: Review, protocol: Protocol) -> int:
    query = _pending(review, protocol).with_only_columns(sa.func.count())
    return int(session.execute(query).scalar_one())


def screen_pending(
    *,
    session: Session,
    review: Review,
    protocol: Protocol,
    screener: Screener,
    record_ids: Sequence[int] | None = None,
    batch_size: int = 500,
) -> ScreenOutcome:
    """Screen the review's records that have no screening for this protocol and content yet.

    ``record_ids`` narrows it to those records (a sweep screens each batch it stores),
    and then ``unscreened`` is not counted. A record the screener cannot handle is
    skipped with its reason (it stays unscreened and is counted) instead of stopping
    the records after it.
    """
    assert review.id is not None
    outcome = ScreenOutcome()
    failures: list[str] = []
    last_id = 0
    table = SQLModel.metadata.tables["screenings"]  # Core: one executemany per batch
    pending = _pending(review, protocol)
    version = protocol.version  # a hash of the criteria: once, not once per record
    if record_ids is not None:
        if not record_ids:
            return outcome
        pending = pending.where(col(Record.id).in_(list(record_ids)))
    while True:
        rows = session.execute(
            pending.with_only_columns(
                col(Record.id), col(Record.pmid), col(Record.content_hash), col(Record.data)
            )
            .where(col(Record.id) > last_id)
            .order_by(col(Record.id))
            .limit(batch_size)
        ).all()
        if not rows:
            break
        last_id = rows[-1][0]
        now = utcnow()
        priorities: list[dict[str, Any]] = []
        screenings: list[dict[str, Any]] = []
        for record_id, pmid, content_hash, stored in rows:
            data = {name: stored.get(name) for name in EXPORT_FIELDS}
            try:
                result = screener.screen(data)
            except Exception as exc:  # one record's fault is reported, never the batch's
                failures.append(f"PMID {pmid}: {exc.__class__.__name__}: {exc}")
                continue
            priorities.append({"rid": record_id, "p": result.p_include})
            screenings.append(
                {
                    "review_id": review.id,
                    "record_id": record_id,
                    "protocol_version": version,
                    "content_hash": content_hash,
                    "decision": result.decision,
                    "p_include": result.p_include,
                    "criteria": result.to_json()["criteria"],
                    "created_at": now,
                }
            )
        if screenings:
            session.execute(table.insert(), screenings)
        set_priorities(session=session, review_id=review.id, priorities=priorities)
        session.commit()
        outcome.screened += len(priorities)
    if record_ids is None:
        outcome.unscreened = count_unscreened(session=session, review=review, protocol=protocol)
    if failures:
        shown = "; ".join(failures[:3]) + ("; ..." if len(failures) > 3 else "")
        outcome.error = f"{len(failures)} record(s) could not be screened: {shown}"
    return outcome


def set_priorities(*, session: Session, review_id: int, priorities: list[dict[str, Any]]) -> None:
    """Copy the newest ``p_include`` (``rid``, ``p``) onto the queue's ordering column."""
    if not priorities:
        return
    table = SQLModel.metadata.tables["review_records"]  # Core, so executemany stays plain
    session.execute(
        table.update()
        .where(table.c.review_id == review_id, table.c.record_id == sa.bindparam("rid"))
        .values(priority=sa.bindparam("p")),
        priorities,
    )


def latest_screenings(
    *, session: Session, review: Review, protocol: Protocol, record_ids: list[int]
) -> dict[int, Screening]:
    """The current screening of each record (this protocol version, current content)."""
    if not record_ids:
        return {}
    rows = session.execute(
        sa.select(Screening)
        .join(Record, col(Record.id) == col(Screening.record_id))
        .where(
            col(Screening.review_id) == review.id,
            col(Screening.record_id).in_(record_ids),
            col(Screening.protocol_version) == protocol.version,
            col(Screening.content_hash) == col(Record.content_hash),
        )
    ).scalars()
    return {s.record_id: s for s in rows}
