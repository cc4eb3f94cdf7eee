"""Per-review access, enforced once for every route that names a review.

The guards are router dependencies (added where the app includes each router), so a new
route under ``/reviews/{slug}`` is covered without remembering to ask. They run before the
route's own dependencies: a caller who may not see the review gets the same 404 as for a
review that does not exist, so slugs do not leak. A request without a valid caller passes
through untouched and the route's own sign-in or token check answers it as before.

The caller and their role in the review are kept in :data:`services.web.auth.current_caller`
for the rest of the request, which is how ``has_role`` (blind mode, resolver routes) sees a
role granted for one review. The guards are ``async`` so that the value they set is the one
the route's thread-pool work starts from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from services.db.reviewing import User
from services.reviewing import access
from services.web.auth import Caller, api_user, current_caller, session_user
from services.web.deps import get_session


def not_found(slug: str) -> HTTPException:
    """Word for word what an unknown review answers (see ``deps.find_review``)."""
    return HTTPException(404, f"unknown review {slug!r}")


def enter_review(*, session: Session, user: User, slug: str | None) -> Caller:
    """The caller for this request, 404 when ``slug`` is a review ``user`` may not see.

    Sets :data:`current_caller` in the running context; routes that do their work in one
    thread-pool hop (the screening hot path) call it there themselves."""
    assert user.id is not None
    if slug is None:  # a list of reviews, or no review at all
        roles = access.review_roles(session=session, user_id=user.id, role=user.role)
        caller = Caller(user_id=user.id, role=user.role, review_role=None, roles=roles)
    else:
        review_role = access.role_in_review(session=session, user=user, slug=slug)
        if review_role is None:
            raise not_found(slug)
        caller = Caller(user_id=user.id, role=user.role, review_role=review_role)
    current_caller.set(caller)
    return caller


@contextmanager
def in_review(*, session: Session, user: User, slug: str) -> Iterator[None]:
    """Inside, ``has_role`` answers with ``user``'s role in ``slug`` (for a listing of several
    reviews, each shown as its own page would show it); the caller is restored after."""
    token = current_caller.set(current_caller.get())
    try:
        enter_review(session=session, user=user, slug=slug)
        yield
    finally:
        current_caller.reset(token)


def _slug(request: Request) -> str | None:
    slug = request.path_params.get("slug")
    return slug if isinstance(slug, str) else None


async def api_review_guard(
    request: Request,
    user: User = Depends(api_user),
    session: Session = Depends(get_session),
) -> None:
    """For the API routers: the token was already checked (``api_user``, shared per request)."""
    caller = await run_in_threadpool(
        lambda: enter_review(session=session, user=user, slug=_slug(request))
    )
    current_caller.set(caller)


async def page_review_guard(request: Request, session: Session = Depends(get_session)) -> None:
    """For the page routers: a signed-in browser is checked; anyone else meets the sign-in
    form (or the feed's own token check) further on, before any review is looked up."""

    slug = _slug(request)

    def check() -> Caller | None:
        user = session_user(request, session)
        if user is None:
            return None
        caller = enter_review(session=session, user=user, slug=slug)
        if slug is None:  # the list of reviews: its template leaves out the others
            request.state.visible_reviews = visible_slugs()
        return caller

    caller = await run_in_threadpool(check)
    if caller is not None:
        current_caller.set(caller)


def visible_slugs() -> frozenset[str] | None:
    """The reviews this request's caller may see (None: every one, or no caller known)."""
    caller = current_caller.get()
    if caller is None or caller.roles is None:
        return None
    return frozenset(caller.roles)
