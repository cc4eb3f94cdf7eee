"""Thin Celery tasks: unpack ids, build the runtime once per process, call services.pipeline."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from celery import shared_task

from services.errors import SweepError
from services.runtime import Runtime, build_runtime
from services.settings import get_settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def worker_runtime() -> Runtime:
    """Built on first use in each worker process, never at import time."""
    return build_runtime(get_settings())


@shared_task(
    name="livescreen.sweep_review",
    acks_late=True,  # a sweep resumes where it stopped, so running it again is safe
    autoretry_for=(SweepError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def sweep_review(slug: str, full: bool = False) -> dict[str, Any]:
    from services.pipeline.jobs import sweep_review as run

    runtime = worker_runtime()
    if slug not in runtime.protocols:
        log.warning("sweep of unknown review %s ignored", slug)
        return {"slug": slug, "state": "unknown review"}
    result = run(runtime, slug, full=full)
    return {"slug": slug, "sweep_id": result.sweep_id, "state": result.state, **result.counts}


@shared_task(name="livescreen.screen_review", acks_late=True)
def screen_review(slug: str) -> int:
    from services.pipeline.jobs import screen_review as run

    runtime = worker_runtime()
    if slug not in runtime.protocols:
        return 0
    return run(runtime, slug)
