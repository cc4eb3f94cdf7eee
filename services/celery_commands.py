"""``livescreen worker`` and ``livescreen beat``: Celery started with the right app and options.

The plain ``celery -A workers.celery_app worker|beat`` commands keep working; these
save a deployment from knowing the app's module, check the settings and protocols
first (one line on a mistake, not a traceback from inside Celery), and then replace
this process with Celery's own (``exec``), so signals reach Celery directly: SIGTERM
is its warm shutdown, and a supervisor sees one process.

The app is named by module path, never imported here: ``services`` does not import
``workers``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from services.errors import InputError
from services.settings import Settings

CELERY_APP = "workers.celery_app"


def worker_argv(args: argparse.Namespace) -> list[str]:
    """Celery's arguments for a worker: late acknowledgement and prefetch of one are in the
    app's configuration; events are on there too (Flower shows the tasks by name)."""
    argv = ["-A", CELERY_APP, "worker", f"--loglevel={args.loglevel}"]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    if args.pool:
        argv.append(f"--pool={args.pool}")
    if args.queues:
        argv += ["-Q", args.queues]
    if args.hostname:
        argv += ["-n", args.hostname]
    return argv + _passthrough(args)


def _passthrough(args: argparse.Namespace) -> list[str]:
    extra = list(args.celery_args)
    return extra[1:] if extra[:1] == ["--"] else extra


def beat_argv(args: argparse.Namespace) -> list[str]:
    """Celery's arguments for beat: its schedule file (when each entry last ran) goes to the
    temporary folder unless given, so beat never litters the folder it was started from;
    losing it costs nothing, since what is due is read from the database."""
    schedule = args.schedule or str(Path(tempfile.gettempdir()) / "livescreen-beat-schedule")
    argv = ["-A", CELERY_APP, "beat", f"--loglevel={args.loglevel}", f"--schedule={schedule}"]
    return argv + _passthrough(args)


def _check(settings: Settings, what: str) -> None:
    """Refuse early what Celery would report as a traceback, or not at all."""
    from services.protocols import load_protocols

    if not settings.broker_url:
        raise InputError(
            f"LIVESCREEN_BROKER_URL is not set: a {what} needs a broker such as "
            "redis://127.0.0.1:6379/0 (without one, `livescreen run` runs the tasks in-process)"
        )
    load_protocols(list(settings.protocols))


def _exec_celery(argv: list[str]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "celery", *argv])
    return 0  # not reached: the process is Celery's now


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    _check(settings, "worker")
    return _exec_celery(worker_argv(args))


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    _check(settings, "beat")
    return _exec_celery(beat_argv(args))


def register(sub: Any) -> None:
    """Add ``worker`` and ``beat`` to the ``livescreen`` parser."""
    passthrough = "further arguments after -- go to Celery unchanged"
    p = sub.add_parser("worker", help="start a Celery worker (needs LIVESCREEN_BROKER_URL)")
    p.add_argument("--concurrency", "-c", type=int, help="worker processes (default: CPUs)")
    p.add_argument("--pool", choices=["prefork", "solo", "threads"], help="Celery's pool")
    p.add_argument("--queues", "-Q", metavar="Q1,Q2", help="queues to consume (default: celery)")
    p.add_argument("--hostname", "-n", metavar="NAME", help="worker name, e.g. w1@%%h")
    p.add_argument("--loglevel", "-l", default="INFO")
    p.add_argument("celery_args", nargs=argparse.REMAINDER, help=passthrough)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("beat", help="start Celery beat, the scheduler (one per deployment)")
    p.add_argument("--schedule", "-s", metavar="FILE", help="beat's own state file")
    p.add_argument("--loglevel", "-l", default="INFO")
    p.add_argument("celery_args", nargs=argparse.REMAINDER, help=passthrough)
    p.set_defaults(func=cmd_beat)
