"""Celery wiring: the app is configured from Settings, the beat schedule from the protocols.

Run with ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``.
A protocol that does not validate stops either at import with one line on stderr.
"""

from __future__ import annotations

from datetime import timedelta

from celery import Celery, signals

from services.protocols import ProtocolError, load_protocols
from services.settings import Settings, get_settings

DUE_TASK = "livescreen.start_due_pipelines"
DELIVER_TASK = "livescreen.deliver_alerts"
RERANK_TASK = "livescreen.rerank_reviews"
CHECK_EVERY = DELIVER_EVERY = timedelta(seconds=60)


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    """Every minute: start the pipeline of each review that is due (never swept, or its
    schedule_hours or cron schedule has come round since its last successful sweep: read from
    the database, so a fresh beat sweeps at once), and deliver due alerts (retries and
    reviewers' includes between sweeps). Entries expire before the next minute, so a
    backlog never piles up runs. The protocols are loaded here to refuse a bad one early."""
    load_protocols(list(settings.protocols))
    schedule: dict[str, dict[str, object]] = {}
    schedule["due-sweeps"] = {
        "task": DUE_TASK,
        "schedule": CHECK_EVERY,
        "options": {"expires": CHECK_EVERY.total_seconds() * 0.9},
    }
    schedule["deliver-alerts"] = {
        "task": DELIVER_TASK,
        "schedule": DELIVER_EVERY,
        "options": {"expires": DELIVER_EVERY.total_seconds() * 0.9},
    }
    schedule["rerank-queues"] = {
        "task": RERANK_TASK,
        "schedule": CHECK_EVERY,
        "options": {"expires": CHECK_EVERY.total_seconds() * 0.9},
    }
    return schedule


def redelivery_options(visibility_timeout: float) -> dict[str, float]:
    """How Redis hands a dead worker's unacknowledged tasks to another.

    kombu scans for tasks unacknowledged longer than the visibility timeout every
    ``unacked_restore_interval`` seconds (a tenth of the timeout, 1 to 10 s), under a
    mutex that a worker killed mid-scan would otherwise hold for five minutes; it lapses
    with the timeout here when that is shorter, so one SIGKILL never delays the others.
    """
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_mutex_expire": min(300.0, visibility_timeout),
        "unacked_restore_interval": min(10.0, max(1.0, visibility_timeout / 10)),
    }


def create_celery(settings: Settings) -> Celery:
    app = Celery(
        "livescreen", broker=settings.broker_url or None, backend=settings.broker_url or None
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=timedelta(days=1),
        timezone="UTC",
        # Settings.celery_visibility_timeout (4 h): above the longest task, see there.
        broker_transport_options=redelivery_options(settings.celery_visibility_timeout),
        result_backend_transport_options={"visibility_timeout": settings.celery_visibility_timeout},
        task_default_queue=settings.celery_queue,
        worker_send_task_events=True,  # Flower and `celery events` show tasks by name
        task_send_sent_event=True,
        beat_schedule=beat_schedule(settings),
    )
    app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
    return app


def create_celery_or_exit(settings: Settings) -> Celery:
    """The app, or a one-line exit when a protocol is invalid.

    Celery's command line prints a traceback for any exception raised while it imports
    the app module; ``SystemExit`` is not caught there, so the process ends with the
    message alone and status 1, as ``livescreen`` does.
    """
    try:
        return create_celery(settings)
    except ProtocolError as exc:
        raise SystemExit(f"livescreen celery: error: {exc}") from None


def check_due_at_start(sender: object = None, **_: object) -> None:
    """beat's first minute tick comes a minute after it starts; ask at once instead, so a
    fresh deployment sweeps every never-swept or overdue review immediately."""
    app.send_task(DUE_TASK, expires=CHECK_EVERY.total_seconds() * 0.9)


app = create_celery_or_exit(get_settings())
signals.beat_init.connect(check_due_at_start, weak=False)
