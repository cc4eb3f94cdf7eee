"""The ``livescreen`` command: the composition root that builds settings, database and clients.

Each subcommand is a function ``(args, settings) -> exit code``; the expected
failures (bad protocol, unreachable database, PubMed refusing) end in one line
on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from services.settings import Settings, get_settings

Handler = Callable[[argparse.Namespace, Settings], int]
log = logging.getLogger("livescreen")


class UsageError(Exception):
    """Bad command-line input; the message names the argument."""


def _date_arg(value: str) -> str:
    from services.pipeline.windows import parse_day

    try:
        parse_day(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in YYYY/MM/DD form") from None
    return value


def build_parser() -> argparse.ArgumentParser:
    from services.pipeline import commands as pipeline_commands

    parser = argparse.ArgumentParser(
        prog="livescreen", description="Keep living systematic reviews in step with PubMed."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sweep", help="search PubMed and store new and revised records")
    p.add_argument("--review", metavar="SLUG", help="review slug (default: every review)")
    p.add_argument("--full", action="store_true", help="sweep everything, not only changes")
    p.add_argument("--mindate", type=_date_arg, metavar="YYYY/MM/DD")
    p.add_argument("--maxdate", type=_date_arg, metavar="YYYY/MM/DD")
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.add_argument(
        "--retry-gaps",
        action="store_true",
        help="also ask again for PMIDs given up after earlier sweeps (open ones always are)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 3 when a sweep ends with gaps "
        "(quarantined, missing or unscreened records); 1 still means an error",
    )
    p.set_defaults(func=pipeline_commands.cmd_sweep)

    p = sub.add_parser("export", help="write a review's records")
    p.add_argument("--review", metavar="SLUG")
    p.add_argument("--format", choices=["jsonl", "csv", "ris"], default="jsonl")
    p.add_argument("--output", "-o", metavar="FILE", help="file to write (default: stdout)")
    p.set_defaults(func=pipeline_commands.cmd_export)

    p = sub.add_parser("status", help="records and last sweep per review")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=pipeline_commands.cmd_status)

    p = sub.add_parser("classify", help="screen records from a JSONL file, write verdicts")
    p.add_argument("--review", metavar="SLUG")
    p.add_argument("input", metavar="INPUT.jsonl")
    p.set_defaults(func=pipeline_commands.cmd_classify)

    p = sub.add_parser("evaluate", help="compare machine screening with human labels")
    p.add_argument("--review", metavar="SLUG")
    p.add_argument("input", metavar="LABELLED.jsonl")
    p.add_argument(
        "--part",
        choices=("tune", "holdout", "all"),
        default="all",
        help="records to report: the tuning part, the held-out part (about 1 in 5 by a hash"
        " of the id) or all (default)",
    )
    p.set_defaults(func=pipeline_commands.cmd_evaluate)

    p = sub.add_parser("run", help="migrate, sweep on schedule and serve HTTP (embedded mode)")
    p.add_argument("--host", help="listen address (default LIVESCREEN_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default LIVESCREEN_PORT, 8000)")
    p.add_argument("--no-initial-sweep", action="store_true", help="do not sweep at start")
    p.set_defaults(func=pipeline_commands.cmd_run)

    p = sub.add_parser("serve", help="serve the API and reviewer pages")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=pipeline_commands.cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=pipeline_commands.cmd_migrate)

    try:
        from services.web import commands as web_commands
    except ImportError:  # the reviewer side is optional while it is being built
        pass
    else:
        web_commands.register(sub)
    from services.alerts import commands as alert_commands

    alert_commands.register(sub)
    from services import celery_commands

    celery_commands.register(sub)
    from services.imports import commands as import_commands

    import_commands.register(sub)
    from services.simulation import commands as simulation_commands

    simulation_commands.register(sub)
    from services.reports import commands as report_commands

    report_commands.register(sub)
    from services.registry import commands as registry_commands

    registry_commands.register(sub)
    return parser


def one_line(exc: BaseException) -> str:
    """An expected error as the single line ``main`` prints.

    Most messages already are one line; pydantic's validation errors (bad settings in
    the environment) and database drivers' errors span several, with the useful part
    first, so those are cut down to it.
    """
    import reprlib

    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"])
        if exc.title == "Settings" and where:
            where = f"LIVESCREEN_{where.upper()}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        if not where:  # a rule across settings: its message names them; the input is all
            return f"{exc.title}: {message}{more}"  # of them, secrets included: not echoed
        got = reprlib.repr(first.get("input"))  # a whole mapping would not fit on a line
        return f"{exc.title}: {where}: {message}, got {got}{more}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from services.errors import EXPECTED_ERRORS

    try:
        settings = get_settings()
        handler: Handler = args.func
        return handler(args, settings)
    except EXPECTED_ERRORS as exc:
        print(f"livescreen {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"livescreen {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
