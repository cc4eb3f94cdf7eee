"""Each record's review status (pending to included), listings and PRISMA counts.

Searching the listing is ``services.search``'s job (full-text, built on :func:`records_query`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.dialect import prebuilt
from services.db.models import Record, Review, ReviewRecord, Screening
from services.db.reviewing import Claim, Decision, Resolution
from services.reviewing.machine import current_screening_join
from services.reviewing.revisions import revised_in_review

STATUSES = ("pending", "in_progress", "maybe", "conflict", "included", "excluded")
# Statuses still awaiting human decisions: "maybe" is a record kept for a second look,
# so it counts as not yet screened, like one in progress.
UNSETTLED = ("pending", "in_progress", "maybe")
MAYBE = "maybe"


@dataclass(frozen=True)
class Blinding:
    """Whose eyes a status is computed for in a blind review.

    A reviewer of a blind review must not learn that a record is in conflict (it tells
    them the other vote), so for them a conflict reads ``in_progress`` until it is
    settled. Resolvers and admins (``exempt``) see conflicts, except on records they
    are a party to (they claimed or decided it), where they are reviewers like any other.
    """

    user_id: int
    exempt: bool = False


def party_to(user_id: Any, record_id: Any, review_id: Any) -> Any:
    """SQL: the user claimed or decided the record in this review."""
    claimed = sa.exists().where(
        col(Claim.review_id) == review_id,
        col(Claim.record_id) == record_id,
        col(Claim.user_id) == user_id,
    )
    decided = sa.exists().where(
        col(Decision.review_id) == review_id,
        col(Decision.record_id) == record_id,
        col(Decision.user_id) == user_id,
    )
    return sa.or_(claimed, decided)


def status_columns(
    review_id: int, required: int, blinding: Blinding | None = None
) -> tuple[Any, Any, Any]:
    """(decision aggregate subquery, resolution subquery, status CASE) for one review.

    The status CASE reads ``ReviewRecord.conflict_at``, so the query must join
    ``review_records``. With ``blinding`` the conflicts the viewer may not see read
    ``in_progress``, and so does another reviewer's "maybe" (it would hint at their vote).

    A "maybe" is not a vote: ``n`` counts include and exclude decisions only, so a record
    whose decisions are maybes reads ``maybe`` until someone decides it for good.
    """
    is_maybe = col(Decision.decision) == MAYBE
    maybe_seen: Any = is_maybe
    if blinding is not None:
        maybe_seen = sa.and_(is_maybe, col(Decision.user_id) == blinding.user_id)
    agg = (
        sa.select(
            col(Decision.record_id).label("record_id"),
            sa.func.sum(sa.case((is_maybe, 0), else_=1)).label("n"),
            sa.func.sum(sa.case((col(Decision.decision) == "include", 1), else_=0)).label("n_inc"),
            sa.func.sum(sa.case((maybe_seen, 1), else_=0)).label("n_maybe"),
            sa.func.count().label("n_all"),
        )
        .where(col(Decision.review_id) == review_id, col(Decision.is_current).is_(True))
        .group_by(col(Decision.record_id))
        .subquery("agg")
    )
    res = (
        sa.select(col(Resolution.record_id), col(Resolution.decision))
        .where(col(Resolution.review_id) == review_id)
        .subquery("res")
    )
    n = sa.func.coalesce(agg.c.n, 0)
    conflict: Any = sa.literal("conflict")
    if blinding is not None and not blinding.exempt:
        conflict = sa.literal("in_progress")
    elif blinding is not None:
        hidden = party_to(blinding.user_id, col(ReviewRecord.record_id), review_id)
        conflict = sa.case((hidden, "in_progress"), else_="conflict")
    status = sa.case(
        (res.c.decision == "include", "included"),
        (res.c.decision == "exclude", "excluded"),
        (col(ReviewRecord.conflict_at).is_not(None), conflict),
        (sa.and_(n >= required, agg.c.n_inc == n), "included"),
        (sa.and_(n >= required, agg.c.n_inc == 0), "excluded"),
        (n >= required, conflict),
        (sa.func.coalesce(agg.c.n_maybe, 0) > 0, MAYBE),
        (sa.func.coalesce(agg.c.n_all, 0) > 0, "in_progress"),
        else_="pending",
    )
    return agg, res, status


def records_query(
    *,
    review_id: int,
    required: int,
    status: str | None = None,
    blinding: Blinding | None = None,
) -> Any:
    """Rows (Record, status, p_include) of a review; the base of listing, search, export and counts.

    The status is as ``blinding``'s viewer may see it, and so is the status filter: a
    blinded reviewer asking for conflicts finds none."""
    agg, res, status_col = status_columns(review_id, required, blinding)
    stmt = (
        sa.select(Record, status_col.label("status"), col(Screening.p_include))
        .select_from(ReviewRecord)
        .join(Record, col(Record.id) == ReviewRecord.record_id)
        .join(Review, col(Review.id) == ReviewRecord.review_id)
        .outerjoin(Screening, current_screening_join(review_id))
        .outerjoin(agg, agg.c.record_id == Record.id)
        .outerjoin(res, res.c.record_id == Record.id)
        .where(col(ReviewRecord.review_id) == review_id)
    )
    if status == "screened":
        stmt = stmt.where(status_col.in_(("included", "excluded")))
    elif status == "withdrawn":
        stmt = stmt.where(col(Record.deleted).is_(True))
    elif status:
        stmt = stmt.where(status_col == status, col(Record.deleted).is_(False))
    return stmt


def list_records(
    *,
    session: Session,
    review_id: int,
    required: int,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
    blinding: Blinding | None = None,
) -> tuple[int, list[tuple[Record, str, float | None]]]:
    stmt = records_query(review_id=review_id, required=required, status=status, blinding=blinding)
    total = session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(col(ReviewRecord.added_at).desc(), col(ReviewRecord.record_id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return int(total), [(r[0], r[1], r[2]) for r in rows]


def record_status(
    *,
    session: Session,
    review_id: int,
    record_id: int,
    required: int,
    hide_conflict: bool = False,
    viewer: int | None = None,
) -> str:
    """One record's status, by the same rules as :func:`status_columns`, in one small query.

    ``hide_conflict`` reads a conflict as ``in_progress``, for a viewer who must not learn
    that the votes disagree (see :class:`Blinding`); such a viewer sees ``maybe`` only for
    their own maybe (``viewer``, a user id), since another's would hint at that vote."""
    row = (
        session.connection()
        .execute(
            _record_status_stmt(),
            {"review_id": review_id, "record_id": record_id, "viewer": viewer},
        )
        .one()
    )
    n_all, n, n_inc = int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)
    maybes = int((row[4] if hide_conflict else row[3]) or 0)
    resolved, conflict_at = row[5], row[6]
    conflict = "in_progress" if hide_conflict else "conflict"
    if resolved:
        return "included" if resolved == "include" else "excluded"
    if conflict_at is not None:
        return conflict
    if n >= required:
        return "included" if n_inc == n else "excluded" if n_inc == 0 else conflict
    if maybes:
        return MAYBE
    return "in_progress" if n_all else "pending"


@prebuilt
def _record_status_stmt() -> Any:
    review_id = sa.bindparam("review_id", type_=sa.Integer)
    record_id = sa.bindparam("record_id", type_=sa.Integer)
    viewer = sa.bindparam("viewer", type_=sa.Integer)
    resolution = (
        sa.select(col(Resolution.decision))
        .where(col(Resolution.review_id) == review_id, col(Resolution.record_id) == record_id)
        .scalar_subquery()
    )
    conflict_at = (
        sa.select(col(ReviewRecord.conflict_at))
        .where(col(ReviewRecord.review_id) == review_id, col(ReviewRecord.record_id) == record_id)
        .scalar_subquery()
    )
    is_maybe = col(Decision.decision) == MAYBE
    return sa.select(
        sa.func.count(col(Decision.id)),
        sa.func.sum(sa.case((is_maybe, 0), else_=1)),
        sa.func.sum(sa.case((col(Decision.decision) == "include", 1), else_=0)),
        sa.func.sum(sa.case((is_maybe, 1), else_=0)),
        sa.func.sum(sa.case((sa.and_(is_maybe, col(Decision.user_id) == viewer), 1), else_=0)),
        resolution,
        conflict_at,
    ).where(
        col(Decision.review_id) == review_id,
        col(Decision.record_id) == record_id,
        col(Decision.is_current).is_(True),
    )


def counts(
    *, session: Session, review_id: int, required: int, blinding: Blinding | None = None
) -> dict[str, Any]:
    """PRISMA-style counts, as ``blinding``'s viewer may see them; ``estimated_recall`` only
    once machine screening exists."""
    base = records_query(review_id=review_id, required=required, blinding=blinding).subquery()
    by_status = dict(
        session.execute(
            sa.select(base.c.status, sa.func.count())
            .where(base.c.deleted.is_(False))
            .group_by(base.c.status)
        ).all()
    )
    totals = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((base.c.deleted.is_(True), 1), else_=0)),
            sa.func.count(base.c.doi) - sa.func.count(sa.distinct(sa.func.lower(base.c.doi))),
            sa.func.count(base.c.p_include),
            sa.func.sum(
                sa.case(
                    (
                        sa.and_(
                            base.c.status.in_(UNSETTLED),
                            base.c.deleted.is_(False),
                        ),
                        base.c.p_include,
                    ),
                    else_=0.0,
                )
            ),
        )
    ).one()
    identified, withdrawn, duplicates, machine_screened, expected_left = totals
    out: dict[str, Any] = {s: int(by_status.get(s, 0)) for s in STATUSES}
    included, excluded = out["included"], out["excluded"]
    out.update(
        identified=int(identified or 0),
        withdrawn=int(withdrawn or 0),
        duplicates=int(duplicates or 0),
        screened=included + excluded,
        conflicts=out.pop("conflict"),
        remaining=sum(out[s] for s in UNSETTLED),
        machine_screened=int(machine_screened or 0),
    )
    if blinding is None:
        # Counting conflicts as screened would let a blinded viewer subtract included and
        # excluded from it and learn the conflicts, so blind views keep settled records only.
        out["screened"] = screened_count(session=session, review_id=review_id, required=required)
    # changed since decided: the records a reviewer should look at again, counted as the
    # records list flags them (in a blind review, a reviewer's own decisions only)
    out["revised"] = len(
        revised_in_review(
            session=session,
            review_id=review_id,
            viewer=blinding.user_id if blinding else None,
            only_viewer=blinding is not None and not blinding.exempt,
        )
    )
    active = out["identified"] - out["withdrawn"]
    out["progress"] = round(out["screened"] / active, 4) if active else 0.0
    out["estimated_recall"] = None
    if machine_screened:
        expected = float(expected_left or 0.0)
        out["estimated_recall"] = (
            round(included / (included + expected), 4) if included + expected > 0 else 1.0
        )
    return out


def screened_count(*, session: Session, review_id: int, required: int) -> int:
    """Records (not withdrawn) that have their required current decisions or a resolution:
    a record in dual screening is screened once both reviewers decided, agreeing or not.
    Counting decisions reveals no vote, so blind mode needs no filter here; a maybe is not
    a decision yet, so it does not count."""
    n = (
        sa.select(sa.func.count())
        .where(
            col(Decision.review_id) == review_id,
            col(Decision.record_id) == col(ReviewRecord.record_id),
            col(Decision.is_current).is_(True),
            col(Decision.decision) != MAYBE,
        )
        .scalar_subquery()
    )
    resolved = sa.exists().where(
        col(Resolution.review_id) == review_id,
        col(Resolution.record_id) == col(ReviewRecord.record_id),
    )
    stmt = (
        sa.select(sa.func.count())
        .select_from(ReviewRecord)
        .join(Record, col(Record.id) == col(ReviewRecord.record_id))
        .where(
            col(ReviewRecord.review_id) == review_id,
            col(Record.deleted).is_(False),
            sa.or_(n >= required, resolved),
        )
    )
    return int(session.execute(stmt).scalar_one())


def reviewer_progress(*, session: Session, review_id: int) -> list[tuple[int, int]]:
    """(user id, records they decided) per reviewer, most first; counts only, no votes.
    A maybe is left out: the reviewer has still to decide that record."""
    rows = session.execute(
        sa.select(col(Decision.user_id), sa.func.count(sa.distinct(col(Decision.record_id))))
        .where(
            col(Decision.review_id) == review_id,
            col(Decision.is_current).is_(True),
            col(Decision.decision) != MAYBE,
        )
        .group_by(col(Decision.user_id))
        .order_by(sa.func.count(sa.distinct(col(Decision.record_id))).desc())
    ).all()
    return [(int(u), int(c)) for u, c in rows]


def dual_pairs(*, session: Session, review_id: int) -> list[tuple[str, str]]:
    """(first, second) current include/exclude decisions of each record decided by two
    reviewers (a maybe is no rating to agree or disagree with)."""
    rows = session.execute(
        sa.select(col(Decision.record_id), col(Decision.decision))
        .where(
            col(Decision.review_id) == review_id,
            col(Decision.is_current).is_(True),
            col(Decision.decision) != MAYBE,
        )
        .order_by(col(Decision.record_id), col(Decision.created_at), col(Decision.id))
    ).all()
    by_record: dict[int, list[str]] = {}
    for record_id, decision in rows:
        by_record.setdefault(record_id, []).append(decision)
    return [(d[0], d[1]) for d in by_record.values() if len(d) >= 2]


def cohens_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of the first against the second decision (None: too few or no spread).
    scikit-learn's implementation, so the figure matches what methodologists compute."""
    if len(pairs) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    first, second = zip(*pairs, strict=True)
    if len(set(first) | set(second)) < 2:
        return None
    value = float(cohen_kappa_score(list(first), list(second)))
    return None if value != value else round(value, 4)  # NaN when one rater never varies
