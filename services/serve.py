"""Running the HTTP service (and, for ``livescreen run``, the embedded scheduler)."""

from __future__ import annotations

import logging

import uvicorn

from services.runtime import Runtime
from services.scheduler import EmbeddedScheduler
from services.web.app import create_app

log = logging.getLogger(__name__)
SWEEP_TASK = "livescreen.sweep_review"


def scheduled_job(runtime: Runtime, slug: str) -> object:
    """In-process sweep without a broker; with one, hand the sweep to the Celery workers."""
    if runtime.settings.uses_broker:
        from celery import Celery

        # By name, so services never import workers (the import direction is one way).
        broker = Celery("livescreen", broker=runtime.settings.broker_url)
        return broker.send_task(SWEEP_TASK, args=[slug])
    from services.pipeline.jobs import sweep_review

    result = sweep_review(runtime, slug)
    log.info("%s", result.summary(slug))
    return result


def serve(
    runtime: Runtime,
    *,
    host: str | None,
    port: int | None,
    scheduler: bool,
    initial_sweep: bool = True,
) -> None:
    """Serve until Ctrl-C; uvicorn handles the signal, then the scheduler is stopped."""
    logging.getLogger("services").setLevel(min(logging.INFO, logging.getLogger().level))
    app = create_app(runtime)
    config = uvicorn.Config(
        app,
        host=host or runtime.settings.host,
        port=port if port is not None else runtime.settings.port,
        log_level="info",
    )
    server = uvicorn.Server(config)
    embedded = EmbeddedScheduler(runtime, scheduled_job, run_at_start=initial_sweep)
    if scheduler:
        embedded.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown; stopping is the normal end
    finally:
        embedded.stop()
    log.info("stopped")
