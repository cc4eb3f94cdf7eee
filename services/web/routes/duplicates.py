"""``POST /reviews/{slug}/duplicates/{group_id}/split``: take a wrong member out of a group.

A page form (session cookie and CSRF token, like the other page forms) for resolvers and
admins: deduplication keeps a group's non-primary members out of the queue, so a wrong
match would hide a study from screening until someone splits it. The split member is
queued on its own again; if it was the primary, another member takes over the group.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import Response
from sqlmodel import Session

from services.db.reviewing import User
from services.pipeline.dedup import DuplicateError, split_record
from services.web import screening
from services.web.auth import check_csrf, page_user, require_role
from services.web.deps import ReviewContext, get_session
from services.web.inputs import MAX_ID
from services.web.routes.pages import page_review, safe_next, see_other

router = APIRouter(include_in_schema=False)
GroupId = Annotated[int, Path(ge=1, le=MAX_ID, description="a duplicate group id")]


@router.post("/reviews/{slug}/duplicates/{group_id}/split")
def split_member(
    request: Request,
    group_id: GroupId,
    record_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    csrf_token: str = Form(""),
    next: str = Form(""),
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    """Split ``record_id`` from the group, then go back to the page the form was on."""
    check_csrf(request, csrf_token)
    require_role(user, "resolver")
    screening.find_record(session=session, ctx=ctx, record_id=record_id)  # 404 if not ours
    try:
        split_record(session=session, review_id=ctx.id, group_id=group_id, record_id=record_id)
    except DuplicateError as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()
    request.app.state.ranked.invalidate(ctx.id)
    request.session["flash"] = (
        f"Split record {record_id} from duplicate group {group_id}: it is screened on its own now."
    )
    return see_other(safe_next(next) if next else f"/reviews/{ctx.slug}/records/{record_id}")
