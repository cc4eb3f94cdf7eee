"""The prebuilt statements a claim runs: lock a free candidate, clear a lapsed lease, insert.

Built once per process (see :data:`services.db.dialect.prebuilt`) because ``/next``
runs them all day and building them cost more than running them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.db.dialect import among_param, insert_for, prebuilt
from services.db.models import Record, Review, ReviewRecord, Screening
from services.db.reviewing import Claim, Skip
from services.reviewing.machine import machine_order


def lock_first_free(
    *, session: Session, review_id: int, candidates: list[int], wait: bool = False
) -> tuple[Record, Screening | None] | None:
    """PostgreSQL: lock the first candidate no other claim is working on, and load it.

    Without this, every reviewer would queue behind the first one's uncommitted insert
    on the same top record (the unique index makes them wait); ``SKIP LOCKED`` passes
    over the records others are claiming this instant. The lock (on the record's
    membership row) is held until commit, which is a moment away. With ``wait`` the
    first candidate is waited for instead (the last look before "nothing left").
    Withdrawn records are passed over. The one statement also returns the record and
    its machine screening (as :func:`machine_screening` picks it), which the reviewer
    is shown next, so the claim needs no further reads.
    """
    row = session.execute(
        lock_first_free_stmt(wait), {"review_id": review_id, "ids": candidates}
    ).first()
    return (row[0], row[1]) if row is not None else None


@prebuilt
def lock_first_free_stmt(wait: bool) -> Any:
    from sqlalchemy.dialects.postgresql import ARRAY

    review_id = sa.bindparam("review_id", type_=sa.Integer)
    ids = sa.bindparam("ids", type_=ARRAY(sa.Integer))
    version = (
        sa.select(col(Review.protocol_version)).where(col(Review.id) == review_id).scalar_subquery()
    )
    machine = (
        select(Screening)
        .where(col(Screening.review_id) == review_id, col(Screening.record_id) == col(Record.id))
        .order_by(*machine_order(col(Record.content_hash), version))
        .limit(1)
        .lateral("machine")
    )
    return (
        sa.select(Record, aliased(Screening, machine))
        .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
        .outerjoin(machine, sa.true())
        .where(
            col(ReviewRecord.review_id) == review_id,
            col(ReviewRecord.record_id) == sa.func.any(ids),
            col(Record.deleted).is_(False),
        )
        .order_by(sa.func.array_position(ids, col(ReviewRecord.record_id)))
        .limit(1)
        .with_for_update(skip_locked=not wait, key_share=True, of=ReviewRecord)
    )


@prebuilt
def delete_expired_stmt() -> Any:
    return sa.delete(Claim).where(
        col(Claim.review_id) == sa.bindparam("review"),
        col(Claim.record_id) == sa.bindparam("record"),
        col(Claim.status) == "active",
        col(Claim.expires_at) <= sa.bindparam("now"),
    )


def ranked_by() -> Any:
    """The model version that set the record's queue priority (copied for the audit trail)."""
    return (
        sa.select(col(ReviewRecord.ranked_by))
        .where(
            col(ReviewRecord.review_id) == sa.bindparam("review"),
            col(ReviewRecord.record_id) == sa.bindparam("record"),
        )
        .scalar_subquery()
    )


@prebuilt
def insert_claim_stmt(dialect: str) -> Any:
    return (
        insert_for(dialect)(Claim)
        .values(
            review_id=sa.bindparam("review"),
            record_id=sa.bindparam("record"),
            user_id=sa.bindparam("user"),
            slot=sa.bindparam("slot_no"),
            status="active",
            claimed_at=sa.bindparam("now"),
            expires_at=sa.bindparam("expires"),
            model_version=ranked_by(),
        )
        .on_conflict_do_nothing()
        .returning(*Claim.__table__.columns)  # type: ignore[attr-defined]
    )


@prebuilt
def chunk_states_stmt(dialect: str, look_for_held: bool) -> Any:
    """The claims on a window of records, the caller's skips among them and (optionally)
    the caller's live lease anywhere in the review, as rows of one union."""
    review_id = sa.bindparam("review_id", type_=sa.Integer)
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    claims = sa.select(
        col(Claim.record_id),
        col(Claim.slot),
        col(Claim.user_id),
        col(Claim.status),
        col(Claim.expires_at),
    ).where(col(Claim.review_id) == review_id, among_param(Claim.record_id, "ids", dialect))
    skips = sa.select(
        col(Skip.record_id),
        sa.literal(0),
        col(Skip.user_id),
        sa.literal("skipped"),
        sa.cast(sa.null(), sa.DateTime(timezone=True)),
    ).where(
        col(Skip.review_id) == review_id,
        col(Skip.user_id) == user_id,
        among_param(Skip.record_id, "ids", dialect),
    )
    parts = [claims, skips]
    if look_for_held:
        parts.append(
            sa.select(
                col(Claim.record_id),
                col(Claim.slot),
                col(Claim.user_id),
                sa.literal("held"),
                col(Claim.expires_at),
            ).where(
                col(Claim.review_id) == review_id,
                col(Claim.user_id) == user_id,
                col(Claim.status) == "active",
                col(Claim.expires_at) > sa.bindparam("now"),
            )
        )
    return sa.union_all(*parts)
