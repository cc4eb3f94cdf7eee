"""The reviewer actions shared by the API and the pages: next record, decide, look up, export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import HTTPException
from sqlmodel import Session, col, select

from services import reviewing
from services.db.models import Record, ReviewRecord
from services.db.reviewing import Claim, User
from services.reports import export
from services.reports.export import ExportScope
from services.runtime import Runtime
from services.web import views
from services.web.deps import ReviewContext, lease


def find_record(*, session: Session, ctx: ReviewContext, record_id: int) -> Record:
    """A record of this review; 404 when it does not exist or belongs to another review."""
    record = session.exec(
        select(Record)
        .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
        .where(col(ReviewRecord.review_id) == ctx.id, col(Record.id) == record_id)
    ).first()
    if record is None:
        raise HTTPException(404, f"record {record_id} is not part of review {ctx.slug!r}")
    return record


def user_names(*, session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(list(ids))))
    return {u.id: u.name for u in rows if u.id is not None}


def record_payload(
    *,
    session: Session,
    ctx: ReviewContext,
    record: Record,
    viewer: User,
    claim: Claim | None = None,
    history: bool = True,
) -> dict[str, Any]:
    """A record as ``viewer`` may see it: content, machine verdicts, and visible decisions."""
    assert record.id is not None and viewer.id is not None
    party = reviewing.is_party(
        session=session, review_id=ctx.id, record_id=record.id, user_id=viewer.id
    )
    status = reviewing.record_status(
        session=session,
        review_id=ctx.id,
        record_id=record.id,
        required=ctx.required,
        hide_conflict=views.hides_conflict(ctx, viewer, party=party),
        viewer=viewer.id,
    )
    screenings = reviewing.screenings_of(session=session, review_id=ctx.id, record_id=record.id)
    machine = views.current_screening(record, screenings, ctx)
    decisions = reviewing.decisions_of(session=session, review_id=ctx.id, record_ids=[record.id])[
        record.id
    ]
    shown = views.visible_decisions(
        decisions, viewer=viewer, review=ctx, status=status, party=party
    )
    resolution = reviewing.resolution_of(session=session, review_id=ctx.id, record_id=record.id)
    names = user_names(
        session=session,
        ids={d.user_id for d in shown} | ({resolution.user_id} if resolution else set()),
    )
    out = views.record_json(record, status=status)
    out["machine"] = views.machine_json(machine)
    if claim is not None:
        out["claim"] = views.claim_json(claim)
    out["decisions"] = [views.decision_json(d, names) for d in shown if history or d.is_current]
    out["resolution"] = views.resolution_json(resolution, names)
    if history:
        out["screenings"] = [views.machine_json(s) for s in screenings]
    return out


def claim_next(
    *,
    session: Session,
    runtime: Runtime,
    ranked: reviewing.RankedQueue,
    ctx: ReviewContext,
    user: User,
) -> reviewing.Claimed | None:
    """Claim from the cached order; before saying "nothing left", look again at a fresh one,
    this time waiting for records that others are claiming at this very moment."""
    assert user.id is not None
    for last_look in (False, True):
        ranking = ranked.get(
            session=session, review_id=ctx.id, required=ctx.required, fresh=last_look
        )
        got = reviewing.claim_next(
            session=session,
            review_id=ctx.id,
            user_id=user.id,
            required=ctx.required,
            lease=lease(runtime),
            ranking=ranking,
            wait=last_look,
        )
        if got is not None:
            return got
        # Nothing claimed: end the transaction before the waiting look, so the rows this
        # pass locked and passed over are free again. Holding them while waiting for
        # another reviewer's row is how two reviewers deadlock on PostgreSQL.
        session.rollback()
    return None


def next_payload(
    *,
    session: Session,
    runtime: Runtime,
    ranked: reviewing.RankedQueue,
    ctx: ReviewContext,
    user: User,
) -> dict[str, Any] | None:
    """What ``POST /next`` returns: the claimed record with the machine's verdicts, or None.

    The claim is committed before the payload is built, so its locks last only a moment.
    """
    got = claim_next(session=session, runtime=runtime, ranked=ranked, ctx=ctx, user=user)
    session.commit()
    if got is None:
        return None
    machine = got.machine
    if not got.machine_loaded:
        machine = reviewing.machine_screening(
            session=session,
            review_id=ctx.id,
            record=got.record,
            protocol_version=ctx.review.protocol_version,
        )
    record_dict = views.record_json(got.record)
    record_dict["machine"] = None if ctx.hide_suggestions else views.machine_json(machine)
    record_dict["machine_hidden"] = ctx.hide_suggestions
    record_dict["claim"] = views.claim_json(got.claim)
    record_dict["criteria"] = ctx.criteria
    return record_dict


def export_scope(ctx: ReviewContext, viewer: User) -> ExportScope:
    """The export rules for ``viewer``: blinded ids and hidden votes in blind reviews."""
    return ExportScope(
        review_id=ctx.id,
        required=ctx.required,
        protocol_version=ctx.review.protocol_version,
        criteria=tuple(ctx.criteria),
        blind=ctx.blind,
        blinding=views.blinding_for(ctx, viewer),
        viewer=(viewer.id, viewer.name) if viewer.id is not None else None,
    )


def export_rows(*, session: Session, ctx: ReviewContext, viewer: User) -> Iterator[dict[str, Any]]:
    """Every record of the review with its current decisions, as the viewer may see them."""
    return export.export_rows(session=session, scope=export_scope(ctx, viewer))


def team_progress(*, session: Session, ctx: ReviewContext, viewer: User) -> dict[str, Any]:
    """Per-reviewer counts and, for dual screening, Cohen's kappa of the two decisions.

    In a blind review only resolvers and admins see kappa: with few records it would tell
    a reviewer how often the other vote differed."""
    from services.reviewing.status import cohens_kappa, dual_pairs, reviewer_progress

    per = reviewer_progress(session=session, review_id=ctx.id)
    names = user_names(session=session, ids={u for u, _ in per})
    out: dict[str, Any] = {
        "reviewers": [{"reviewer": names.get(u, str(u)), "decided": n} for u, n in per],
        "kappa": None,
        "pairs": 0,
        "kappa_hidden": False,
    }
    if ctx.required < 2:
        return out
    if ctx.blind and not views.has_role(viewer, "resolver"):
        out["kappa_hidden"] = True
        return out
    pairs = dual_pairs(session=session, review_id=ctx.id)
    out.update(kappa=cohens_kappa(pairs), pairs=len(pairs))
    return out
