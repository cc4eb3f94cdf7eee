"""Who is calling: bearer tokens for the API, a signed session cookie for pages, roles, CSRF.

Nothing that reads records or decisions is public. A disabled account loses
access at once, because every request re-reads the user row.
"""

from __future__ import annotations

import hmac
import secrets

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


def page_user(request: Request, session: Session = Depends(get_session)) -> User:
    user_id = request.session.get("uid")
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        request.session.pop("uid", None)
        raise SignInRequired()
    return user


def has_role(user: User, role: str) -> bool:
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK[role]


def require_role(user: User, role: str) -> None:
    if not has_role(user, role):
        raise HTTPException(403, f"this needs the {role} role; you are a {user.role}")


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
