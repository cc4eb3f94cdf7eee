"""Links from a review's registrations to its records that cite their NCT id.

PubMed gives a trial publication's registration in its DataBank list or text, imports
find NCT ids in titles and abstracts; either way a record carries ``nct_ids``. A
registration and a publication of its trial are different reports of one study, so
they are linked, never grouped as duplicates: both stay in the queue and each can be
shown with the other. Links are refreshed at the end of every registry sweep over the
whole review, so a PubMed record swept since the last registry sweep is linked at the
next one; refreshing only ever adds (a record no longer citing the id keeps its link,
as duplicate groups only ever grow).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.models import Record, ReviewRecord, utcnow
from services.db.registry import RegistrationLink
from services.pipeline.store import TABLES, insert_ignoring_conflicts

PAGE = 5000


@dataclass(frozen=True)
class LinkView:
    """One link as listed: the registration and the record citing it."""

    nct_id: str
    registration_id: int
    record_id: int
    record_key: str
    record_title: str


def _in_review(review_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(ReviewRecord.review_id) == review_id,
        col(ReviewRecord.record_id) == col(Record.id),
        col(Record.deleted).is_(False),
    )


def link_registrations(*, session: Session, review_id: int) -> int:
    """Link the review's registrations to the review's records naming them; new links."""
    registrations = {
        key.upper(): record_id
        for key, record_id in session.execute(
            sa.select(col(Record.pmid), col(Record.id))
            .join(ReviewRecord, _in_review(review_id))
            .where(col(Record.pmid).like("NCT%"))
        )
    }
    if not registrations:
        return 0
    existing = {
        (registration, record)
        for registration, record in session.execute(
            sa.select(col(RegistrationLink.registration_id), col(RegistrationLink.record_id)).where(
                col(RegistrationLink.review_id) == review_id
            )
        )
    }
    rows = []
    now = utcnow()
    last = 0
    while True:
        page = session.execute(
            sa.select(col(Record.id), col(Record.data)["nct_ids"])
            .join(ReviewRecord, _in_review(review_id))
            .where(col(Record.id) > last, col(Record.pmid).not_like("NCT%"))
            .order_by(col(Record.id))
            .limit(PAGE)
        ).all()
        if not page:
            break
        for record_id, cited in page:
            for nct_id in cited if isinstance(cited, list) else []:
                registration = registrations.get(str(nct_id).upper())
                if registration is None or (registration, record_id) in existing:
                    continue
                existing.add((registration, record_id))
                rows.append(
                    {
                        "review_id": review_id,
                        "registration_id": registration,
                        "record_id": record_id,
                        "nct_id": str(nct_id).upper(),
                        "created_at": now,
                    }
                )
        last = page[-1][0]
    insert_ignoring_conflicts(
        session,
        TABLES["registration_links"],
        rows,
        ["review_id", "registration_id", "record_id"],
    )
    return len(rows)


def list_links(*, session: Session, review_id: int, record_id: int | None = None) -> list[LinkView]:
    """The review's links (of one record, a registration or a citing one, when given)."""
    query = (
        sa.select(
            col(RegistrationLink.nct_id),
            col(RegistrationLink.registration_id),
            col(RegistrationLink.record_id),
            col(Record.pmid),
            col(Record.title),
        )
        .join(Record, col(Record.id) == col(RegistrationLink.record_id))
        .where(col(RegistrationLink.review_id) == review_id)
        .order_by(col(RegistrationLink.nct_id), col(RegistrationLink.record_id))
    )
    if record_id is not None:
        query = query.where(
            sa.or_(
                col(RegistrationLink.registration_id) == record_id,
                col(RegistrationLink.record_id) == record_id,
            )
        )
    return [LinkView(*row) for row in session.execute(query)]
