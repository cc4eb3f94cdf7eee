"""``livescreen import`` and ``livescreen duplicates list|split``.

``import`` prints one report: how many records were read and stored (new, updated,
unchanged, duplicates) and every bad record with its line or number and the problem. A
missing file or a format that cannot be told is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from services.imports.detect import UndetectableFormat
from services.imports.items import FormatError
from services.imports.source import SourceError
from services.settings import Settings

# What a bad file raises: each message names the file and the problem, in one line.
IMPORT_ERRORS: tuple[type[Exception], ...] = (SourceError, FormatError, UndetectableFormat)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "import", help="import records from a RIS, nbib, XML, CSV or JSONL file"
    )
    p.add_argument("--review", metavar="SLUG", help="review slug (default: the only one)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=["ris", "nbib", "pubmed-xml", "csv", "jsonl"])
    p.add_argument("--no-screen", action="store_true", help="store only; screen later")
    p.add_argument(
        "--with-decisions",
        action="store_true",
        help="also restore the human decisions of a livescreen JSONL export",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_import)
    dup = subparsers.add_parser("duplicates", help="a review's duplicate groups")
    sub = dup.add_subparsers(dest="duplicates_command", required=True, metavar="ACTION")
    p = sub.add_parser("list", help="list duplicate groups with their primary and members")
    p.add_argument("--review", metavar="SLUG")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_duplicates_list)
    p = sub.add_parser("split", help="take a record out of a wrong duplicate group")
    p.add_argument("--review", metavar="SLUG")
    p.add_argument("group", type=int, metavar="GROUP")
    p.add_argument("record", type=int, metavar="RECORD")
    p.set_defaults(func=cmd_duplicates_split)


def _fail(command: str, message: str) -> int:
    print(f"livescreen {command}: error: {message}", file=sys.stderr)
    return 1


def run_import(
    runtime: Any, *, slug: str | None, path: Path, fmt: str | None, screen: bool = True,
    file_name: str | None = None, with_decisions: bool = False,
) -> Any:  # fmt: skip
    """Detect, read, store and screen one file for a review (the CLI and the API share it).

    ``with_decisions`` restores the decisions of a livescreen JSONL export, the one format
    that carries them whole; asked of another format it is a FormatError."""
    from services.imports.detect import detect_format
    from services.imports.readers import read_items
    from services.imports.run import import_items
    from services.imports.source import open_source
    from services.pipeline.jobs import SweepScreening

    protocol = runtime.protocol(slug)
    source = open_source(path)
    fmt = fmt or detect_format(source)
    if with_decisions and fmt != "jsonl":
        raise FormatError(
            f"{file_name or path.name}: decisions are restored only from livescreen's JSONL "
            f"export (livescreen export --format jsonl), and this file is {fmt}"
        )
    return import_items(
        sessions=runtime.sessions,
        protocol=protocol,
        screening=SweepScreening(runtime, protocol.slug) if screen else None,
        items=read_items(source, fmt),
        file_name=file_name or path.name,
        fmt=fmt,
        content_hash=source.content_hash,
        with_decisions=with_decisions,
    )


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"import {report['import_id']}: {report['file']} ({report['format']})"
        + (" -- already imported, nothing added" if report["already_imported"] else ""),
        f"  read {report['read']}, imported {report['imported']}: new {report['new']}, "
        f"updated {report['updated']}, unchanged {report['unchanged']}, "
        f"duplicates {report['duplicates']}; bad {report['bad']}",
    ]
    if report["deleted"]:
        lines.append(f"  deleted (DeleteCitation) {report['deleted']}")
    lines.append(
        f"  screened {report['screened']}, new duplicate groups {report['duplicate_groups']}"
    )
    if report["decisions_restored"] or report["resolutions_restored"]:
        lines.append(
            f"  decisions restored {report['decisions_restored']}, "
            f"resolutions restored {report['resolutions_restored']}"
        )
    if report["accounts_created"]:
        lines.append(
            "  new disabled accounts (enable with livescreen users enable NAME and give a "
            f"token with livescreen users token NAME): {', '.join(report['accounts_created'])}"
        )
    bad = [p for p in report["problems"] if p.get("kind") != "decision"]
    for problem in bad:
        lines.append(f"  bad record at {problem['where']}: {problem['problem']}")
    if report["bad"] > len(bad):
        lines.append(f"  ... and {report['bad'] - len(bad)} more bad records")
    for problem in report["problems"]:
        if problem.get("kind") == "decision":
            lines.append(f"  not restored at {problem['where']}: {problem['problem']}")
    return "\n".join(lines)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from services.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        report = run_import(
            runtime, slug=args.review, path=Path(args.file), fmt=args.format,
            screen=not args.no_screen, with_decisions=args.with_decisions,
        ).to_json()  # fmt: skip
    except IMPORT_ERRORS as exc:
        return _fail("import", str(exc))
    finally:
        runtime.close()
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _review_id(runtime: Any, slug: str | None) -> int:
    from services.db.engine import session_scope
    from services.pipeline.store import ensure_review

    with session_scope(runtime.sessions) as session:
        review = ensure_review(session=session, protocol=runtime.protocol(slug))
        assert review.id is not None
        return review.id


def cmd_duplicates_list(args: argparse.Namespace, settings: Settings) -> int:
    from services.pipeline.dedup import list_groups
    from services.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        review_id = _review_id(runtime, args.review)
        with runtime.sessions() as session:
            groups = list_groups(session=session, review_id=review_id)
    finally:
        runtime.close()
    if args.json:
        print(json.dumps([g.__dict__ for g in groups], indent=2))
        return 0
    if not groups:
        print("no duplicate groups")
    for view in groups:
        print(f"group {view.id} (primary record {view.primary_record_id})")
        for m in view.members:
            print(
                f"  {m['record_id']:>8} {m['role']:<9} {m['reason']:<5} {m['score']:>5} "
                f"{m['key']}  {m['title'][:70]}"
            )
    return 0


def cmd_duplicates_split(args: argparse.Namespace, settings: Settings) -> int:
    from services.db.engine import session_scope
    from services.pipeline.dedup import DuplicateError, split_record
    from services.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        review_id = _review_id(runtime, args.review)
        with session_scope(runtime.sessions) as session:
            split_record(
                session=session, review_id=review_id, group_id=args.group, record_id=args.record
            )
    except DuplicateError as exc:
        return _fail("duplicates split", str(exc))
    finally:
        runtime.close()
    print(f"record {args.record} split from group {args.group}; it is queued on its own")
    return 0
