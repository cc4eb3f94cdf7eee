"""The JSON API under ``/api/v1``; every route needs a bearer token (``/healthz`` is elsewhere)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, select

from services import reviewing
from services.db.models import Review
from services.db.reviewing import User, UserPublic
from services.reviewing.learned import latest_run, stopping_summary
from services.runtime import Runtime
from services.web import accounts, screening, views
from services.web.access import enter_review, in_review, visible_slugs
from services.web.auth import api_admin, api_resolver, api_user, authenticate, bearer_present
from services.web.deps import (
    ReviewContext,
    get_review,
    get_runtime,
    get_session,
    lease,
    review_for,
)
from services.web.inputs import USER_NAME, RecordId, SafeText, Slug, UserName
from services.web.routes.common import ERRORS, Problem, StatusFilter

__all__ = ["ERRORS", "Problem", "StatusFilter", "all_reviews", "hot", "router"]


router = APIRouter(
    prefix="/api/v1", tags=["reviews"], dependencies=[Depends(api_user)], responses=ERRORS
)
# The two calls a screening reviewer makes all day: async routes doing all their
# work in one worker-thread hop instead of one per dependency.
hot = APIRouter(prefix="/api/v1", tags=["reviews"], responses=ERRORS)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["include", "exclude", "maybe"]  # maybe: kept for a second look
    reasons: list[str] = Field(default_factory=list, description="criterion names an exclude fails")
    note: SafeText = Field(default="", max_length=5000)


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["include", "exclude"]
    note: SafeText = Field(default="", max_length=5000)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        description=accounts.NAME_HELP,
        json_schema_extra={"pattern": USER_NAME},
    )
    role: Literal["reviewer", "resolver", "admin"] = "reviewer"

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        try:
            return accounts.check_name(name.strip())
        except accounts.AccountError as exc:
            raise ValueError(str(exc)) from None


def review_summary(session: Session, ctx: ReviewContext, viewer: User) -> dict[str, Any]:
    return {
        "slug": ctx.slug,
        "title": ctx.title,
        "screening": ctx.screening,
        "blind": ctx.blind,
        "required_decisions": ctx.required,
        "criteria": ctx.criteria,
        "counts": reviewing.counts(
            session=session,
            review_id=ctx.id,
            required=ctx.required,
            blinding=views.blinding_for(ctx, viewer),
        ),
        "team": screening.team_progress(session=session, ctx=ctx, viewer=viewer),
        # the stopping rule (Callaghan & Mueller-Hansen) at the last ranking; counts'
        # estimated_recall is the machine's expectation from p_include
        **stopping_summary(latest_run(session=session, review_id=ctx.id)),
    }


def all_reviews(session: Session, runtime: Runtime) -> list[ReviewContext]:
    """The reviews this request's caller may see (see ``services.reviewing.access``)."""
    rows = session.exec(select(Review).order_by(Review.slug)).all()
    visible = visible_slugs()
    return [
        ReviewContext(r, runtime.protocols.get(r.slug))
        for r in rows
        if visible is None or r.slug in visible
    ]


@router.get("/reviews")
def list_reviews(
    user: User = Depends(api_user),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> list[dict[str, Any]]:
    """Every review that has records and the caller may see, with its PRISMA-style counts."""
    summaries = []
    for ctx in all_reviews(session, runtime):
        with in_review(session=session, user=user, slug=ctx.slug):  # blind mode by review role
            summaries.append(review_summary(session, ctx, user))
    return summaries


@router.get("/reviews/{slug}")
def get_review_summary(
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """PRISMA-style counts (identified, duplicates, screened, ...) and estimated recall; in a
    blind review a reviewer's counts show conflicts as in progress."""
    return review_summary(session, ctx, user)


@router.post("/reviews/{slug}/records/{record_id}/skip", status_code=204)
def skip_record(
    record_id: RecordId,
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> Response:
    """Give back a claimed record undecided; it returns to you only when nothing else is left."""
    screening.find_record(session=session, ctx=ctx, record_id=record_id)
    assert user.id is not None
    reviewing.skip(session=session, review_id=ctx.id, record_id=record_id, user_id=user.id)
    session.commit()
    return Response(status_code=204)


@router.post("/reviews/{slug}/undo")
def undo(
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Withdraw your newest decision in this review and hold its record again."""
    assert user.id is not None
    row = reviewing.undo_last(
        session=session, review_id=ctx.id, user_id=user.id, lease=lease(runtime)
    )
    session.commit()
    return {"undone": views.decision_json(row, {user.id: user.name}) if row else None}


@router.get("/reviews/{slug}/conflicts", dependencies=[Depends(api_resolver)])
def list_conflicts(
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> list[dict[str, Any]]:
    """Records whose required decisions disagree, with those decisions (resolvers and admins),
    except the ones the caller screened themselves, which another resolver must settle."""
    assert user.id is not None
    records = reviewing.conflicts(
        session=session, review_id=ctx.id, required=ctx.required, resolver_id=user.id
    )
    return [
        screening.record_payload(session=session, ctx=ctx, record=r, viewer=user, history=False)
        for r in records
    ]


@router.post(
    "/reviews/{slug}/records/{record_id}/resolution",
    status_code=201,
    dependencies=[Depends(api_resolver)],
)
def resolve(
    record_id: RecordId,
    body: ResolutionIn,
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Settle a conflict (resolvers and admins); the resolution outranks reviewer decisions."""
    record = screening.find_record(session=session, ctx=ctx, record_id=record_id)
    assert user.id is not None
    reviewing.resolve(
        session=session,
        review_id=ctx.id,
        record_id=record_id,
        user_id=user.id,
        decision=body.decision,
        note=body.note,
        required=ctx.required,
    )
    session.commit()
    return screening.record_payload(session=session, ctx=ctx, record=record, viewer=user)


@router.get("/reviews/{slug}/records/{record_id}")
def get_record(
    record_id: RecordId,
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """One record with its full decision history and machine screenings."""
    record = screening.find_record(session=session, ctx=ctx, record_id=record_id)
    assert user.id is not None
    claim = reviewing.claim_of(
        session=session, review_id=ctx.id, record_id=record_id, user_id=user.id
    )
    if claim is not None and claim.status == "active":
        reviewing.renew(claim, lease=lease(runtime))
        session.commit()
    return screening.record_payload(
        session=session, ctx=ctx, record=record, viewer=user, claim=claim
    )


@router.get("/users", tags=["users"], dependencies=[Depends(api_admin)])
def list_users(session: Session = Depends(get_session)) -> list[UserPublic]:
    """Accounts (admins only); tokens are never shown again."""
    return [
        UserPublic.model_validate(u, from_attributes=True)
        for u in accounts.list_users(session=session)
    ]


@router.post("/users", tags=["users"], status_code=201, dependencies=[Depends(api_admin)])
def create_user(body: UserIn, session: Session = Depends(get_session)) -> dict[str, Any]:
    """Create an account (admins only); the response is the only time its token is shown."""
    try:
        user, token = accounts.create_user(session=session, name=body.name, role=body.role)
    except accounts.AccountError as exc:
        raise reviewing.StateConflict(str(exc)) from None
    session.commit()
    return {
        "user": UserPublic.model_validate(user, from_attributes=True).model_dump(mode="json"),
        "token": token,
    }


def account_change(change: Any, session: Session, name: str) -> Any:
    """Run an account change; 404 for an unknown name, 409 for a refused change."""
    try:
        result = change(session=session, name=name)
    except accounts.NoSuchUser as exc:
        raise HTTPException(404, str(exc)) from None
    except accounts.AccountError as exc:
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return result


@router.post("/users/{name}/disable", tags=["users"], dependencies=[Depends(api_admin)])
def disable_user(name: UserName, session: Session = Depends(get_session)) -> UserPublic:
    """Disable an account (admins only); its token and sessions stop working at once. The last
    active admin cannot be disabled (409)."""
    user = account_change(accounts.disable_user, session, name)
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/users/{name}/enable", tags=["users"], dependencies=[Depends(api_admin)])
def enable_user(name: UserName, session: Session = Depends(get_session)) -> UserPublic:
    """Give a disabled account its access back (admins only)."""
    user = account_change(accounts.enable_user, session, name)
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/users/{name}/token", tags=["users"], dependencies=[Depends(api_admin)])
def reissue_token(name: UserName, session: Session = Depends(get_session)) -> dict[str, Any]:
    """A new token for the account (admins only), shown only in this response; the old token
    and every session signed in with it stop working."""
    user, token = account_change(accounts.reissue_token, session, name)
    return {
        "user": UserPublic.model_validate(user, from_attributes=True).model_dump(mode="json"),
        "token": token,
    }


@hot.post(
    "/reviews/{slug}/next",
    responses={200: {"description": "the claimed record"}, 204: {"description": "nothing left"}},
)
async def next_record(
    slug: Slug,
    request: Request,
    credentials: HTTPAuthorizationCredentials = Depends(bearer_present),
) -> Response:
    """Claim the next record for the caller (a lease renewed by activity); 204 when none is left.

    A record the caller already holds is returned again rather than a new one claimed.
    """
    runtime: Runtime = request.app.state.runtime

    def work() -> dict[str, Any] | None:
        with runtime.sessions() as session:
            user = authenticate(session=session, credentials=credentials)
            enter_review(session=session, user=user, slug=slug)  # 404 for a review not theirs
            ctx = review_for(request=request, session=session, slug=slug)
            return screening.next_payload(
                session=session,
                runtime=runtime,
                ranked=request.app.state.ranked,
                ctx=ctx,
                user=user,
            )

    payload = await run_in_threadpool(work)
    if payload is None:
        return Response(status_code=204)
    return JSONResponse(payload)


@hot.post("/reviews/{slug}/records/{record_id}/decisions", status_code=201)
async def decide(
    slug: Slug,
    record_id: RecordId,
    body: DecisionIn,
    request: Request,
    credentials: HTTPAuthorizationCredentials = Depends(bearer_present),
) -> JSONResponse:
    """Record a decision on a claimed record; a second one replaces the first (both are kept)."""
    runtime: Runtime = request.app.state.runtime

    def work() -> dict[str, Any]:
        with runtime.sessions() as session:
            user = authenticate(session=session, credentials=credentials)
            enter_review(session=session, user=user, slug=slug)  # 404 for a review not theirs
            ctx = review_for(request=request, session=session, slug=slug)
            assert user.id is not None
            try:
                row = reviewing.record_decision(
                    session=session,
                    review_id=ctx.id,
                    record_id=record_id,
                    user_id=user.id,
                    decision=body.decision,
                    reasons=body.reasons,
                    note=body.note,
                    criteria=ctx.criteria,
                    required=ctx.required,
                )
            except reviewing.NotClaimed:
                screening.find_record(session=session, ctx=ctx, record_id=record_id)  # 404 first
                raise
            # the decider is a party: in a blind review a conflict reads in_progress
            status = reviewing.record_status(
                session=session,
                review_id=ctx.id,
                record_id=record_id,
                required=ctx.required,
                hide_conflict=ctx.blind,
                viewer=user.id,
            )
            session.commit()
            return {"decision": views.decision_json(row, {user.id: user.name}), "status": status}

    return JSONResponse(await run_in_threadpool(work), status_code=201)
