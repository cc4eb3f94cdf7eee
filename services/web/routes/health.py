"""The health check: is the database there, is the broker there, how fresh is each review.

Anyone may ask whether the service is up (container healthchecks do, without a
token), but the reasons name reviews, their counts and the errors of sweeps and
deliveries, which are for admins only. So an anonymous caller (or one whose token or
session is not an admin's) gets the status and how many reasons there are; a signed-in
admin or an admin's bearer token gets the whole report. The HTTP status is the same
for both.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param

from services.db.engine import check_database
from services.pipeline.status import health_reasons, review_status
from services.runtime import Runtime
from services.web.accounts import user_for_token
from services.web.auth import has_role, session_user
from services.web.deps import get_runtime

router = APIRouter()

ADMIN_HINT = "the reasons are shown to admins (a signed-in session or an admin's bearer token)"


def check_broker(broker_url: str) -> str | None:
    """None when the broker answers (or none is configured), else the reason."""
    if not broker_url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # a health probe reports failures, it does not raise them
        return f"{exc.__class__.__name__}: {exc}"
    return None


def is_admin(request: Request, runtime: Runtime) -> bool:
    """Whether the caller is an active admin, by bearer token or page session; never raises.

    The header is read here rather than through the API's bearer dependency, which
    would document the route as needing a token: it needs none, and a bad token is no
    error either (the caller simply gets the anonymous report).
    """
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    with runtime.sessions() as session:
        if scheme.lower() == "bearer" and token:
            user = user_for_token(session=session, token=token)
        else:
            user = session_user(request, session)
        return user is not None and has_role(user, "admin")


@router.get("/healthz", tags=["health"])
def healthz(request: Request, runtime: Runtime = Depends(get_runtime)) -> JSONResponse:
    """``ok``, or ``degraded`` with ``reasons``: a dependency down, or a review's data not whole.

    The HTTP status answers "is the service up?": 503 only when the database or the
    broker is unreachable. A review with gaps (quarantined, missing or unscreened
    records, a failed sweep) is ``degraded`` with HTTP 200, because a container
    healthcheck restarts on non-2xx and a restart fixes no missing record. Anonymous
    callers get ``status`` and ``reason_count`` only; admins get the details too.
    """
    db_error = check_database(runtime.engine)
    broker_error = check_broker(runtime.settings.broker_url)
    reasons = [f"database: {db_error}"] if db_error else []
    if broker_error:
        reasons.append(f"broker: {broker_error}")
    body: dict[str, Any] = {
        "status": "ok",
        "reason_count": 0,
        "reasons": reasons,
        "database": {"ok": db_error is None, "error": db_error},
        "broker": {
            "ok": broker_error is None,
            "configured": bool(runtime.settings.broker_url),
            "error": broker_error,
        },
        "reviews": [],
    }
    admin = False
    if db_error is None:
        with runtime.sessions() as session:
            body["reviews"] = review_status(session=session, protocols=runtime.protocols)
            reasons.extend(health_reasons(session=session))
        admin = is_admin(request, runtime)
    body["status"] = "degraded" if reasons else "ok"
    body["reason_count"] = len(reasons)
    if not admin:
        body = {"status": body["status"], "reason_count": len(reasons)}
        if reasons:
            body["detail"] = ADMIN_HINT
    down = bool(db_error or broker_error)
    return JSONResponse(body, status_code=503 if down else 200)
