"""Thin Celery tasks: unpack a slug, build the runtime once per process, call one step.

Each step of the living loop (services.pipeline.chain) is a task of its own, chained by
``livescreen.pipeline``. Every task is idempotent, acknowledged only after it ran
(``acks_late``; the app sets ``task_reject_on_worker_lost``), so a worker killed at any
point has its task redelivered and the chain goes on; only named transient errors
are retried, with exponential backoff and jitter.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from celery import chain, shared_task

from services.errors import SweepError, SweepOverflow
from services.locks import ReviewLocked
from services.runtime import Runtime, build_runtime
from services.settings import get_settings

log = logging.getLogger(__name__)

# Failures another attempt can cure: PubMed or the database briefly away, or another
# worker still sweeping the review (its lock lapses within a minute if it died).
TRANSIENT = (SweepError, ReviewLocked, sa.exc.OperationalError, ConnectionError, TimeoutError)
# ...but not a day over PubMed's retrieval cap: every attempt would meet it again.
PERMANENT = (SweepOverflow,)
STEP = {
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "dont_autoretry_for": PERMANENT,
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 5,
    "bind": True,
}


@lru_cache(maxsize=1)
def worker_runtime() -> Runtime:
    """Built on first use in each worker process, never at import time."""
    return build_runtime(get_settings())


def _known(slug: str) -> Runtime | None:
    runtime = worker_runtime()
    if slug not in runtime.protocols:
        log.warning("task for unknown review %s ignored", slug)
        return None
    return runtime


@shared_task(name="livescreen.start_due_pipelines", acks_late=True, bind=True)
def start_due_pipelines(self: Any) -> list[str]:
    """beat's minute tick: start the chain of every review that is due and not running."""
    from services.pipeline.schedule import due_reviews

    queue = (self.request.delivery_info or {}).get("routing_key")
    slugs = due_reviews(worker_runtime())
    for slug in slugs:
        pipeline.apply_async(args=[slug], **({"queue": queue} if queue else {}))
    return slugs


@shared_task(name="livescreen.pipeline", acks_late=True, bind=True)
def pipeline(self: Any, slug: str) -> str | None:
    """Start the review's chain: sweep -> registry (when the protocol has a
    ``[clinicaltrials]`` table) -> screen -> rank -> alerts -> deliver, on the queue this
    task came from (so a deployment's, or a test's, own queue keeps the whole chain)."""
    from services.pipeline.chain import steps_for

    runtime = _known(slug)
    if runtime is None:
        return None
    queue = (self.request.delivery_info or {}).get("routing_key")
    tasks = {
        "sweep": sweep_review,
        "registry": sweep_registry,
        "screen": screen_review,
        "rank": rank_review,
        "alerts": raise_alerts,
        "deliver": deliver_alerts,
    }
    steps = [tasks[step].si(slug) for step in steps_for(runtime.protocol(slug))]
    if queue:
        steps = [step.set(queue=queue) for step in steps]
    return str(chain(*steps).apply_async().id)


@shared_task(name="livescreen.sweep_review", **STEP)
def sweep_review(self: Any, slug: str, full: bool = False) -> dict[str, Any]:
    from services.pipeline.chain import sweep_step

    runtime = _known(slug)
    if runtime is None:
        return {"slug": slug, "state": "unknown review"}
    result = sweep_step(runtime, slug, full=full, attempt=self.request.retries + 1)
    return {"slug": slug, "sweep_id": result.sweep_id, "state": result.state, **result.counts}


@shared_task(name="livescreen.sweep_registry", **STEP)
def sweep_registry(self: Any, slug: str, full: bool = False) -> dict[str, Any]:
    """The registry step. A registry that stays unreachable or refuses (the client has
    already retried 429 and 5xx with backoff) fails the step's run but not the chain: the
    PubMed records still get screened and alerted on, and the next sweep asks the
    registry again from the unchanged mark, so nothing is lost."""
    from services.pipeline.chain import registry_step
    from services.registry.client import RegistryError

    runtime = _known(slug)
    if runtime is None:
        return {"slug": slug, "state": "unknown review"}
    try:
        report = registry_step(runtime, slug, full=full, attempt=self.request.retries + 1)
    except RegistryError as exc:
        log.warning("%s: registry sweep failed, the chain goes on: %s", slug, exc)
        return {"slug": slug, "state": "failed", "error": str(exc)}
    if report is None:
        return {"slug": slug, "state": "no [clinicaltrials] table"}
    return {"slug": slug, "state": "succeeded", **report}


@shared_task(name="livescreen.screen_review", **STEP)
def screen_review(self: Any, slug: str) -> int:
    from services.pipeline.chain import screen_step

    runtime = _known(slug)
    return 0 if runtime is None else screen_step(runtime, slug, attempt=self.request.retries + 1)


@shared_task(name="livescreen.rank_review", **STEP)
def rank_review(self: Any, slug: str) -> int:
    from services.pipeline.chain import rank_step

    runtime = _known(slug)
    return 0 if runtime is None else rank_step(runtime, slug, attempt=self.request.retries + 1)


@shared_task(name="livescreen.raise_alerts", **STEP)
def raise_alerts(self: Any, slug: str) -> int:
    from services.pipeline.chain import alerts_step

    runtime = _known(slug)
    return 0 if runtime is None else alerts_step(runtime, slug, attempt=self.request.retries + 1)


@shared_task(name="livescreen.deliver_alerts", **STEP)
def deliver_alerts(self: Any, slug: str | None = None) -> dict[str, Any]:
    """One review's due deliveries after its sweep, or (no slug, from beat) every review's."""
    from services.pipeline.chain import deliver_step

    if slug is None:
        return deliver_step(worker_runtime(), None)
    runtime = _known(slug)
    return {} if runtime is None else deliver_step(runtime, slug, attempt=self.request.retries + 1)


@shared_task(name="livescreen.rerank_reviews", acks_late=True)
def rerank_reviews() -> dict[str, int]:
    """beat's minute entry: retrain the queues that reviewers have moved on since (debounced)."""
    from services.pipeline.chain import rerank_all

    return rerank_all(worker_runtime())
