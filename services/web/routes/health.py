"""The public health check: is the database there, is the broker there, how fresh is each review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from services.db.engine import check_database
from services.pipeline.status import health_reasons, review_status
from services.runtime import Runtime
from services.web.deps import get_runtime

router = APIRouter()


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


@router.get("/healthz", tags=["health"])
def healthz(runtime: Runtime = Depends(get_runtime)) -> JSONResponse:
    """``ok``, or ``degraded`` with ``reasons``: a dependency down, or a review's data not whole.

    The HTTP status answers "is the service up?": 503 only when the database or the
    broker is unreachable. A review with gaps (quarantined, missing or unscreened
    records, a failed sweep) is ``degraded`` with HTTP 200, because a container
    healthcheck restarts on non-2xx and a restart fixes no missing record.
    """
    db_error = check_database(runtime.engine)
    broker_error = check_broker(runtime.settings.broker_url)
    reasons = [f"database: {db_error}"] if db_error else []
    if broker_error:
        reasons.append(f"broker: {broker_error}")
    body: dict[str, Any] = {
        "status": "ok",
        "reasons": reasons,
        "database": {"ok": db_error is None, "error": db_error},
        "broker": {
            "ok": broker_error is None,
            "configured": bool(runtime.settings.broker_url),
            "error": broker_error,
        },
        "reviews": [],
    }
    if db_error is None:
        with runtime.sessions() as session:
            body["reviews"] = review_status(session=session, protocols=runtime.protocols)
            reasons.extend(health_reasons(session=session))
    body["status"] = "degraded" if reasons else "ok"
    down = bool(db_error or broker_error)
    return JSONResponse(body, status_code=503 if down else 200)
