"""Who is calling: bearer tokens for the API, a signed session cookie for pages, roles, CSRF.

Nothing that reads records or decisions is public. A disabled account loses
access at once, because every request re-reads the user row. A page session is a
signed cookie holding the user, the user's session version when it was signed in,
and when it began and was last used: sign-out, disabling and a new token bump the
version, which ends every session of that user however old its cookie, and a
session also ends after ``LIVESCREEN_SESSION_HOURS`` or
``LIVESCREEN_SESSION_IDLE_MINUTES`` without use.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from services.db.reviewing import User
from services.web.accounts import ROLE_RANK, user_for_token
from services.web.deps import get_session

bearer = HTTPBearer(auto_error=False, description="a token from `livescreen users add`")


class SignInRequired(Exception):
    """A page needs a signed-in session; the error handler answers with the sign-in form."""


def api_user(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    session: Session = Depends(get_session),
) -> User:
    return authenticate(session=session, credentials=credentials)


async def bearer_present(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> HTTPAuthorizationCredentials:
    """401 before anything else (body validation included) when no token was sent at all."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "missing bearer token (Authorization: Bearer TOKEN)",
            {"WWW-Authenticate": "Bearer"},
        )
    return credentials


def authenticate(*, session: Session, credentials: HTTPAuthorizationCredentials | None) -> User:
    """The active user behind a bearer token, else 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "missing bearer token (Authorization: Bearer TOKEN)",
            {"WWW-Authenticate": "Bearer"},
        )
    user = user_for_token(session=session, token=credentials.credentials)
    if user is None:
        raise HTTPException(401, "invalid or disabled token", {"WWW-Authenticate": "Bearer"})
    return user


def start_page_session(request: Request, user: User) -> None:
    """Sign ``user`` in on this browser: a fresh session (new CSRF token) for the new identity."""
    now = int(time.time())
    request.session.clear()
    request.session.update(uid=user.id, sv=user.session_version, iat=now, seen=now)


def page_user(request: Request, session: Session = Depends(get_session)) -> User:
    user = session_user(request, session)
    if user is None:
        for key in ("uid", "sv", "iat", "seen"):
            request.session.pop(key, None)
        raise SignInRequired()
    return user


def session_user(request: Request, session: Session) -> User | None:
    """The user of a live page session, else None (expired, ended, disabled or absent)."""
    data = request.session
    user_id, version = data.get("uid"), data.get("sv")
    began, seen = data.get("iat"), data.get("seen")
    if not (
        isinstance(user_id, int)
        and isinstance(version, int)
        and isinstance(began, int)
        and isinstance(seen, int)
    ):
        return None
    settings = request.app.state.runtime.settings
    now = int(time.time())
    if now - began > settings.session_hours * 3600:
        return None
    if now - seen > settings.session_idle_minutes * 60:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    if now - seen >= 60:  # rewrite the cookie at most once a minute
        data["seen"] = now
    return user


@dataclass(frozen=True)
class Caller:
    """Who this request is for (set by ``services.web.access`` before the route runs).

    ``review_role`` is the caller's role in the review the request names: a membership can
    make a reviewer a resolver in one review, or a resolver a reviewer there. A request that
    names no review (a list of reviews) carries ``roles`` instead: the caller's role in each
    review they may see, None when they see every review with their account's role."""

    user_id: int
    role: str  # the account's role
    review_role: str | None
    roles: Mapping[str, str] | None = None


# Request-scoped: each request runs in its own copy of the context, so one caller's access
# never shows through to another's.
current_caller: ContextVar[Caller | None] = ContextVar("current_caller", default=None)


def role_of(user: User, slug: str | None = None) -> str:
    """``user``'s role in review ``slug`` (default: the review of this request), else their
    account's role."""
    caller = current_caller.get()
    if caller is None or caller.user_id != user.id:
        return user.role
    if slug is not None and caller.roles is not None:
        return caller.roles.get(slug, user.role)
    return caller.review_role or user.role


def has_role(user: User, role: str, slug: str | None = None) -> bool:
    """Whether ``user`` has ``role`` or a higher one (in review ``slug``; see ``role_of``)."""
    return ROLE_RANK.get(role_of(user, slug), -1) >= ROLE_RANK[role]


def require_role(user: User, role: str) -> None:
    if not has_role(user, role):
        raise HTTPException(403, f"this needs the {role} role; you are a {role_of(user)}")


def api_resolver(user: User = Depends(api_user)) -> User:
    require_role(user, "resolver")
    return user


def api_admin(user: User = Depends(api_user)) -> User:
    require_role(user, "admin")
    return user


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use; every form renders it."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not (isinstance(expected, str) and submitted and hmac.compare_digest(expected, submitted)):
        raise HTTPException(403, "form rejected: missing or wrong CSRF token (reload the page)")
