"""``/api/v1/reviews/{slug}/members``: who may work on a review, and as what (admins only).

The same changes as ``livescreen users grant|revoke``; the rule they feed is in
:mod:`services.reviewing.access`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from services.db.reviewing import User
from services.reviewing import access
from services.runtime import Runtime
from services.web import accounts
from services.web.auth import api_admin
from services.web.deps import get_runtime, get_session
from services.web.inputs import Slug, UserName
from services.web.routes.common import ERRORS

router = APIRouter(
    prefix="/api/v1", tags=["users"], dependencies=[Depends(api_admin)], responses=ERRORS
)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["reviewer", "resolver"] = "reviewer"


class MemberOut(BaseModel):
    review: str
    user: str
    role: str


def _out(row: access.Membership) -> MemberOut:
    return MemberOut(review=row.slug, user=row.user, role=row.role)


def _review(session: Session, runtime: Runtime, slug: str) -> str:
    try:
        return access.check_slug(session=session, slug=slug, configured=runtime.protocols)
    except access.MembershipError:
        raise HTTPException(404, f"unknown review {slug!r}") from None


def _user(session: Session, name: str) -> User:
    try:
        return accounts.find_user(session=session, name=name)
    except accounts.NoSuchUser as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/reviews/{slug}/members")
def list_members(
    slug: Slug,
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> list[MemberOut]:
    """The review's members and their roles; empty while every user may see it."""
    return [
        _out(m) for m in access.memberships(session=session, slug=_review(session, runtime, slug))
    ]


@router.get("/reviews/{slug}/members/{name}")
def get_member(
    slug: Slug,
    name: UserName,
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> MemberOut:
    """One membership; 404 when the user is not a member."""
    review = _review(session, runtime, slug)
    try:
        return _out(access.membership(session=session, user=_user(session, name), slug=review))
    except access.NoSuchMembership as exc:
        raise HTTPException(404, str(exc)) from None


@router.put("/reviews/{slug}/members/{name}")
def put_member(
    slug: Slug,
    name: UserName,
    body: MemberIn,
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> MemberOut:
    """Grant the user access to the review with a role there (again: change the role). Once
    any membership exists, non-admins see only the reviews they are members of. An admin
    needs no membership (409)."""
    review = _review(session, runtime, slug)
    try:
        row = access.grant(session=session, user=_user(session, name), slug=review, role=body.role)
    except access.MembershipError as exc:
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return _out(row)


@router.delete("/reviews/{slug}/members/{name}", status_code=204)
def delete_member(
    slug: Slug,
    name: UserName,
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """End the user's access to the review; their next request is refused (404)."""
    review = _review(session, runtime, slug)
    try:
        access.revoke(session=session, user=_user(session, name), slug=review)
    except access.NoSuchMembership as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()
    return Response(status_code=204)
