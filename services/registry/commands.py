"""``livescreen registry sweep [--review SLUG]``: sweep ClinicalTrials.gov for a review;
``livescreen registry links [--review SLUG]``: the records citing its registrations.

Without ``--review`` every configured review with a ``[clinicaltrials]`` table is swept
and the others are named as having none; with ``--review`` a review without one is an
error (exit 1), since the user asked for something that cannot happen. Each sweep prints
its counts (new, updated, unchanged, bad) and every study it could not read.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from services.settings import Settings


def register(subparsers: Any) -> None:
    registry = subparsers.add_parser("registry", help="ClinicalTrials.gov registrations")
    sub = registry.add_subparsers(dest="registry_command", required=True, metavar="ACTION")
    p = sub.add_parser("sweep", help="store new and updated registrations and screen them")
    p.add_argument("--review", metavar="SLUG", help="review slug (default: every review)")
    p.add_argument("--full", action="store_true", help="ask for everything, not only updates")
    p.add_argument("--no-screen", action="store_true", help="store only; screen later")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.set_defaults(func=cmd_registry_sweep)
    p = sub.add_parser("links", help="records that cite a registration's NCT id")
    p.add_argument("--review", metavar="SLUG", help="review slug (default: the first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_registry_links)


def format_report(report: dict[str, Any]) -> str:
    since = report["since"] or "the beginning"
    lines = [
        f"registry sweep {report['sweep_id']} of {report['review']} (updates since {since}): "
        f"new {report['new']}, updated {report['updated']}, unchanged {report['unchanged']}, "
        f"bad {report['bad']}",
        f"  {report['found']} studies on {report['pages']} pages, {report['requests']} requests,"
        f" screened {report['screened']}, alerts {report['alerts']}, new links {report['links']};"
        f" high-water mark {report['high_water'] or 'none'}",
    ]
    for problem in report["problems"]:
        lines.append(f"  bad study {problem['where']}: {problem['problem']}")
    if report["bad"] > len(report["problems"]):
        lines.append(f"  ... and {report['bad'] - len(report['problems'])} more bad studies")
    return "\n".join(lines)


def cmd_registry_sweep(args: argparse.Namespace, settings: Settings) -> int:
    from services.pipeline.screen import build_screener
    from services.registry.client import ClinicalTrialsClient, RegistryError
    from services.registry.sweep import RegistryNotConfigured, registry_spec, sweep_registry
    from services.runtime import build_runtime

    runtime = build_runtime(settings)
    reports: list[dict[str, Any]] = []
    try:
        if args.review is not None:
            protocols = [runtime.protocol(args.review)]
            try:
                registry_spec(protocols[0])
            except RegistryNotConfigured as exc:
                print(f"livescreen registry sweep: error: {exc}", file=sys.stderr)
                return 1
        else:
            protocols = []
            for protocol in runtime.protocols.values():
                if protocol.clinicaltrials is None:
                    print(f"review {protocol.slug}: no [clinicaltrials] table, no registry sweep")
                else:
                    protocols.append(protocol)
        with ClinicalTrialsClient(settings) as client:
            for protocol in protocols:
                report = sweep_registry(
                    sessions=runtime.sessions,
                    protocol=protocol,
                    client=client,
                    screener=None if args.no_screen else build_screener(protocol),
                    full=args.full,
                ).to_json()
                reports.append(report)
                if not args.json:
                    print(format_report(report))
    except RegistryError as exc:
        print(f"livescreen registry sweep: error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(reports, indent=2))
    return 0


def cmd_registry_links(args: argparse.Namespace, settings: Settings) -> int:
    from services.db.engine import session_scope
    from services.pipeline.store import ensure_review
    from services.registry.links import list_links
    from services.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            review = ensure_review(session=session, protocol=runtime.protocol(args.review))
            assert review.id is not None
            links = list_links(session=session, review_id=review.id)
    finally:
        runtime.close()
    if args.json:
        print(json.dumps([link.__dict__ for link in links], indent=2))
        return 0
    if not links:
        print("no registration is cited by a record of this review")
    for link in links:
        print(
            f"{link.nct_id} (record {link.registration_id}) cited by record {link.record_id} "
            f"{link.record_key}: {link.record_title[:70]}"
        )
    return 0
