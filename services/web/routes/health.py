"""The public health check: is the database there, is the broker there, how fresh is each review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from services.db.engine import check_database
from services.pipeline.status import review_status
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
    db_error = check_database(runtime.engine)
    broker_error = check_broker(runtime.settings.broker_url)
    body: dict[str, Any] = {
        "status": "ok" if not (db_error or broker_error) else "degraded",
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
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
