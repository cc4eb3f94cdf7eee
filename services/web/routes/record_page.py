"""The page of one record: its content, evidence, decision history and, for a reviewer's
maybe, the form that decides it for good.

Apart from :mod:`services.web.routes.pages` so that module stays small; it shares that
module's page helpers (sign-in, the review lookup, the screening context)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from services.db.reviewing import User
from services.reviewing.status import MAYBE
from services.web import duplicates, revision, screening, views
from services.web.auth import page_user
from services.web.deps import ReviewContext, get_session
from services.web.inputs import RecordId
from services.web.routes.pages import decided_by, page_review, screen_context
from services.web.templating import render

router = APIRouter(include_in_schema=False)


def my_maybe(payload: dict[str, object], user: User) -> bool:
    """Whether ``user``'s current decision on the record is a maybe (so the page offers the
    include and exclude buttons that replace it)."""
    decisions = payload.get("decisions") or []
    assert isinstance(decisions, list)
    return any(
        d["current"] and d["reviewer"] == user.name and d["decision"] == MAYBE for d in decisions
    )


@router.get("/reviews/{slug}/records/{record_id}")
def record_detail(
    request: Request,
    record_id: RecordId,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    record = screening.find_record(session=session, ctx=ctx, record_id=record_id)
    payload = screening.record_payload(session=session, ctx=ctx, record=record, viewer=user)
    shown = views.shows_machine(
        ctx, user, decided=decided_by(payload, user), status=payload.get("status")
    )
    context = screen_context(ctx, user, payload, show_machine=shown)
    context["my_maybe"] = my_maybe(payload, user)
    context["revision"] = revision.revision_view(
        session=session, ctx=ctx, viewer=user, record=record
    )
    context.update(
        duplicates.page_context(
            session=session,
            review_id=ctx.id,
            record_id=record_id,
            viewer=user,
            here=f"/reviews/{ctx.slug}/records/{record_id}",
        )
    )
    return render(request, "record.html", context)
