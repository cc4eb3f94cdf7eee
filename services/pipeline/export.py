"""``livescreen export``: a review's records in the interchange format, plus machine screening."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from sqlmodel import Session, select

from services.db.models import Review
from services.protocols import Protocol

from . import store
from .screen import latest_screenings


def export_jsonl(*, session: Session, protocol: Protocol, out: IO[str], page: int = 1000) -> int:
    """Write one JSON object per record; returns the count. Streams in pages of ``page``."""
    review = session.exec(select(Review).where(Review.slug == protocol.slug)).first()
    if review is None or review.id is None:
        return 0
    count = 0
    batch = []
    for row in store.review_records(session=session, review_id=review.id, batch_size=page):
        batch.append(row)
        if len(batch) >= page:
            count += _write(session, review, protocol, batch, out)
            batch = []
    count += _write(session, review, protocol, batch, out)
    return count


def _write(session: Session, review: Review, protocol: Protocol, rows: list, out: IO[str]) -> int:
    screenings = latest_screenings(
        session=session, review=review, protocol=protocol, record_ids=[r.id for r in rows]
    )
    for row in rows:
        item = store.export_record(row)
        screening = screenings.get(row.id)
        if screening is not None:
            item["machine_decision"] = screening.decision
            item["p_include"] = screening.p_include
            item["criteria"] = screening.criteria
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
    return len(rows)


def export_review(*, session: Session, protocol: Protocol, out: IO[str], fmt: str) -> int:
    """The full export (``jsonl``, ``csv`` or ``ris``) with human decisions, the same rows
    the API and the pages write; an operator's export, so it sees every settled and
    unsettled decision, with blinded reviewer ids in blind reviews. Returns the count."""
    from services.pipeline import formats
    from services.pipeline.formats import csv_writer
    from services.reports.export import ExportScope, export_rows

    write, _media, _ext = formats.writer(fmt)
    review = session.exec(select(Review).where(Review.slug == protocol.slug)).first()
    if review is None or review.id is None:
        return 0
    scope = ExportScope(
        review_id=review.id,
        required=protocol.required_decisions,
        protocol_version=review.protocol_version,
        criteria=tuple(c.name for c in protocol.criteria),
        blind=protocol.blind,
    )
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in export_rows(session=session, scope=scope):
            count += 1
            yield row

    chunks = (
        csv_writer.write(counted(), criteria=scope.criteria) if fmt == "csv" else write(counted())
    )
    for chunk in chunks:
        out.write(chunk)
    return count
