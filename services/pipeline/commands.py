"""Handlers of the pipeline subcommands (sweep, export, status, classify, evaluate, run, serve)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from services.errors import InputError
from services.protocols import Protocol, load_protocols, select_protocol
from services.runtime import Runtime, build_runtime
from services.settings import Settings


@contextmanager
def _runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with _runtime(settings):
        print("database is at the newest schema revision")
    return 0


EXIT_GAPS = 3
"""``livescreen sweep --strict`` exit status when a sweep ended with gaps (1 is an error)."""


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    """Sweep each review and print its summary; 1 if one failed, 3 (``--strict``) for gaps."""
    from services.pipeline.jobs import sweep_review
    from services.pipeline.progress import sweep_progress
    from services.pipeline.sweep import WITH_GAPS

    with _runtime(settings) as runtime:
        slugs = [runtime.protocol(args.review).slug] if args.review else list(runtime.protocols)
        failures = with_gaps = 0
        for slug in slugs:
            with sweep_progress(slug, enabled=not args.no_progress) as progress:
                try:
                    result = sweep_review(
                        runtime,
                        slug,
                        full=args.full,
                        mindate=args.mindate,
                        maxdate=args.maxdate,
                        retry_gaps=args.retry_gaps,
                        progress=progress,
                    )
                except Exception as exc:
                    from services.errors import EXPECTED_ERRORS

                    if not isinstance(exc, EXPECTED_ERRORS):
                        raise
                    print(f"livescreen sweep: error: {exc}", file=sys.stderr)
                    failures += 1
                    continue
            print(result.summary(slug))
            with_gaps += result.state == WITH_GAPS
        if failures:
            return 1
        return EXIT_GAPS if with_gaps and args.strict else 0


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    with tmp.open("w", encoding="utf-8") as handle:
        yield handle
    tmp.replace(target)  # a crash never leaves a half-written export under the real name


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from services.pipeline.export import export_review

    with _runtime(settings) as runtime:
        protocol = runtime.protocol(args.review)
        with _output(args.output) as out, runtime.sessions() as session:
            count = export_review(session=session, protocol=protocol, out=out, fmt=args.format)
    if args.output and args.output != "-":
        print(f"wrote {count} records to {args.output}", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Records, last sweep and current gaps (with their reasons) of every review."""
    from services.pipeline.status import gaps_by_review, review_status

    with _runtime(settings) as runtime, runtime.sessions() as session:
        reviews = review_status(session=session, protocols=runtime.protocols)
        gaps = gaps_by_review(session=session)
    for review in reviews:
        review["gaps"] = gaps.get(review["slug"], [])
    if args.json:
        print(json.dumps({"database": settings.database_location(), "reviews": reviews}, indent=2))
        return 0
    print(f"database: {settings.database_location()}")
    stray = settings.stray_database_note()
    if stray:
        print(stray)
    for review in reviews:
        print(_status_line(review))
        for gap in review["gaps"]:
            state = "given up" if gap["state"] == "given_up" else "open"
            print(
                f"  {gap['kind']} PMID {gap['pmid']} ({state} after {gap['attempts']} "
                f"sweep(s), last sweep {gap['last_sweep_id']}): {gap['reason']}"
            )
        for line in _loop_lines(review):
            print(f"  {line}")
    return 0


def _loop_lines(review: dict[str, Any]) -> list[str]:
    """The living loop's state: each step's last run, deliveries, when the next sweep is due."""
    lines = []
    if review["next_sweep_due"]:
        lines.append(f"next sweep due {review['next_sweep_due']}")
    for step, run in review["steps"].items():
        line = f"{step}: {run['state']} at {run['finished_at'] or run['started_at']}"
        line += f" (attempt {run['attempt']})" if run["attempt"] > 1 else ""
        line += f": {run['detail']}" if run["detail"] else ""
        line += f"; error: {run['error']}" if run["error"] else ""
        lines.append(line)
    r = review["ranking"]
    if r["model_version"]:
        line = f"queue ranked by {r['model_version']}"
        if r["estimated_recall"] is not None:
            line += (
                f"; estimated recall {r['estimated_recall']:.2f} (lower bound "
                f"{r['recall_lower_bound']:.2f}); "
                + ("screening can stop" if r["can_stop"] else "keep screening")
            )
        lines.append(line)
    d = review["deliveries"]
    if d["pending"] or d["failed"] or d["delivered"]:
        line = f"deliveries: {d['pending']} pending, {d['failed']} failed, "
        line += f"{d['delivered']} delivered"
        line += f"; last error: {d['last_error']}" if d["last_error"] else ""
        lines.append(line)
    return lines


def _status_line(review: dict[str, Any]) -> str:
    sweep = review["last_sweep"]
    line = f"{review['slug']}: {review['records']} records"
    if sweep is None:
        return line + "; never swept"
    window = sweep["window"]
    c = sweep["counts"]
    line += (
        f"; last sweep {sweep['id']} {sweep['state']} at "
        f"{sweep['finished_at'] or sweep['started_at']} "
        f"({'full' if sweep['full'] else 'incremental'} {window['mindate']}-"
        f"{window['maxdate']}: {c['found']} found, {c['new']} new, {c['updated']} updated, "
        f"{c['missing']} missing, {c['quarantined']} quarantined, {c['given_up']} given up, "
        f"{c['unscreened']} unscreened)"
    )
    if sweep["error"]:
        line += f" error: {sweep['error']}"
    if sweep["screen_error"]:
        line += f" screening: {sweep['screen_error']}"
    if review["gaps"]:
        line += f"; {len(review['gaps'])} gap(s):"
    return line


def read_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record, error) per non-blank line; one bad line never stops the rest.

    Lines are decoded one by one as UTF-8 (a byte-order mark before the first is
    dropped), so a Latin-1 or binary line is reported by its number and the valid lines
    after it are still read.
    """
    try:
        handle = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield (
                    number,
                    None,
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                )
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(value, dict):
                yield number, None, f"expected a JSON object, got {type(value).__name__}"
                continue
            yield number, value, None


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    from services.pipeline.screen import build_screener, check_record

    protocol = _protocol_only(settings, args.review)
    screener = build_screener(protocol)
    bad = 0
    for number, record, error in read_jsonl(args.input):
        if record is not None:
            error = check_record(record)
        if error or record is None:
            print(f"{args.input}:{number}: skipped: {error}", file=sys.stderr)
            bad += 1
            continue
        screening = screener.screen(record).to_json()
        out = {"id": record.get("id"), "pmid": record.get("pmid"), **screening}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 1 if bad else 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from classifiers.evaluation import evaluate, format_report, select_part
    from services.pipeline.screen import build_screener, check_record

    protocol = _protocol_only(settings, args.review)
    screener = build_screener(protocol)
    labelled: list[dict[str, Any]] = []
    for number, record, error in read_jsonl(args.input):
        if record is not None:
            error = check_record(record) or (
                None
                if record.get("decision") in ("include", "exclude")
                else "missing 'decision' (include or exclude)"
            )
        if error or record is None:
            print(f"{args.input}:{number}: skipped: {error}", file=sys.stderr)
            continue
        labelled.append(record)
    part = getattr(args, "part", "all")
    labelled = [dict(r) for r in select_part(labelled, part)]
    if not labelled:
        raise InputError(f"{args.input}: no usable labelled records (part {part})")
    title = "Screening evaluation" if part == "all" else f"Screening evaluation ({part} part)"
    print(format_report(evaluate(screener, labelled), title))
    return 0


def _protocol_only(settings: Settings, slug: str | None) -> Protocol:
    """classify/evaluate need the protocol, not the database."""
    return select_protocol(load_protocols(list(settings.protocols)), slug)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from services.serve import serve

    with _runtime(settings) as runtime:
        serve(runtime, host=args.host, port=args.port, scheduler=False)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from services.serve import serve

    with _runtime(settings) as runtime:
        serve(
            runtime,
            host=args.host,
            port=args.port,
            scheduler=True,
            initial_sweep=not args.no_initial_sweep,
        )
    return 0
