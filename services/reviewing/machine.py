"""The machine screening beside a record: its current content and protocol's, or the newest."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.models import Record, Review, Screening


def current_screening_join(review_id: int) -> Any:
    """Join condition picking the machine screening of a record's current content and protocol."""
    return sa.and_(
        col(Screening.review_id) == review_id,
        col(Screening.record_id) == col(Record.id),
        col(Screening.protocol_version) == col(Review.protocol_version),
        col(Screening.content_hash) == col(Record.content_hash),
    )


def screenings_of(*, session: Session, review_id: int, record_id: int) -> list[Screening]:
    return list(
        session.exec(
            select(Screening)
            .where(Screening.review_id == review_id, Screening.record_id == record_id)
            .order_by(col(Screening.created_at).desc(), col(Screening.id).desc())
        )
    )


def machine_order(content_hash: Any, protocol_version: Any) -> list[Any]:
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
        .order_by(*machine_order(record.content_hash, protocol_version))
        .limit(1)
    ).first()
