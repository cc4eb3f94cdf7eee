"""Running the HTTP service (and, for ``livescreen run``, the embedded scheduler)."""

from __future__ import annotations

import logging

import uvicorn

from services.runtime import Runtime
from services.scheduler import EmbeddedScheduler, Every
from services.web.app import create_app

log = logging.getLogger(__name__)
PIPELINE_TASK = "livescreen.pipeline"
DELIVER_EVERY = 30.0  # seconds between delivery passes (retries, reviewers' includes)


def scheduled_job(runtime: Runtime, slug: str) -> object:
    """The review's whole loop in-process without a broker; with one, hand it to Celery."""
    if runtime.settings.uses_broker:
        from celery import Celery

        # By name, so services never import workers (the import direction is one way).
        broker = Celery("livescreen", broker=runtime.settings.broker_url)
        return broker.send_task(PIPELINE_TASK, args=[slug])
    from services.pipeline.chain import run_pipeline

    results = run_pipeline(runtime, slug)
    log.info("%s: %s", slug, results.get("sweep"))
    return results


def deliver_job(runtime: Runtime) -> object:
    """Between sweeps (in-process mode only): due deliveries of every review, and the queue
    retrained where reviewers have decided enough since its last ranking."""
    from services.pipeline.chain import deliver_step, rerank_all

    delivered = deliver_step(runtime, None)
    rerank_all(runtime)
    return delivered


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
    log.info("database: %s", runtime.settings.database_location())
    stray = runtime.settings.stray_database_note()
    if stray:
        log.warning("%s", stray)
    embedded = EmbeddedScheduler(runtime, scheduled_job, run_at_start=initial_sweep)
    delivery = Every(DELIVER_EVERY, lambda: deliver_job(runtime), name="livescreen-deliver")
    if scheduler:
        embedded.start()
        if not runtime.settings.uses_broker:  # with a broker, beat schedules deliveries
            delivery.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown; stopping is the normal end
    finally:
        embedded.stop()
        delivery.stop()
    log.info("stopped")
