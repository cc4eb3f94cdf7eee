"""Throughput of the whole screener (all four criteria and the decision) on one core.

    .venv/bin/python -m benchmarks.classify_benchmark [--limit 20000] [--repeat 1]

Screens the flagship dev set plus real PubMed abstracts from the shared
sr-datasets / synergy CSVs (other review topics: every one should be excluded,
mostly on the substance criterion) and prints records per second, the decision
counts on the real abstracts, and the slowest criterion.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from classifiers.screen import Screener
from services.protocols import load_protocol

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_PROTOCOL = ROOT / "protocols" / "psilocybin-microdosing.toml"


def dev_records(data: Path) -> list[dict[str, Any]]:
    path = data / "flagship-dev" / "records.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def real_records(data: Path, limit: int) -> Iterator[dict[str, Any]]:
    """Records in the interchange format from the labelled-dataset CSVs (title, abstract)."""
    csv.field_size_limit(10_000_000)
    paths = sorted((data / "sr-datasets").glob("*/*.csv")) + sorted(
        p for p in (data / "synergy-fiobyr").glob("*.csv") if p.name != "synergy_dataset.csv"
    )
    n = 0
    for path in paths:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                title = (row.get("title") or "").strip()
                if not title:
                    continue
                abstract = (row.get("abstract") or "").strip() or None
                keywords = [k.strip() for k in (row.get("keywords") or "").split(";") if k.strip()]
                yield {
                    "id": f"{path.stem}:{row.get('record_id') or row.get('doi') or n}",
                    "title": title,
                    "abstract": abstract,
                    "journal": "",
                    "year": None,
                    "publication_types": ["Journal Article"],
                    "mesh_terms": [],
                    "keywords": keywords,
                }
                n += 1
                if n >= limit:
                    return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--protocol", type=Path, default=DEFAULT_PROTOCOL)
    parser.add_argument("--limit", type=int, default=20_000, help="real abstracts to add")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--dump",
        type=Path,
        default=None,
        help="write every record's screening (both screeners) as JSON lines to this file,"
        " to check that a refactor changes no output",
    )
    args = parser.parse_args(argv)

    config = load_protocol(args.protocol).criteria_config
    screener = Screener.from_config(config)
    fast = Screener.from_config(config, short_circuit=True)
    dev = dev_records(args.data)
    real = list(real_records(args.data, args.limit))
    records = dev + real
    for record in records[:200]:  # warm-up (regex caches)
        screener.screen(record)

    def timed(s: Screener) -> tuple[list[Any], float]:
        start = time.perf_counter()
        out: list[Any] = []
        for _ in range(args.repeat):
            out = [s.screen(r) for r in records]
        return out, time.perf_counter() - start

    screenings, elapsed = timed(screener)
    fast_screenings, fast_elapsed = timed(fast)
    total = len(records) * args.repeat
    rate = total / elapsed
    same = sum(a.decision == b.decision for a, b in zip(screenings, fast_screenings, strict=True))

    per_criterion: dict[str, float] = {}
    sample = records[: min(len(records), 5000)]
    for criterion in screener.criteria:
        t0 = time.perf_counter()
        for record in sample:
            criterion.evaluate(record)
        per_criterion[criterion.name] = (time.perf_counter() - t0) / len(sample) * 1e6

    if args.dump is not None:
        with args.dump.open("w", encoding="utf-8") as fh:
            for record, full, short in zip(records, screenings, fast_screenings, strict=True):
                row = {"id": record.get("id"), "full": full.to_json(), "short": short.to_json()}
                fh.write(json.dumps(row, sort_keys=True) + "\n")

    real_decisions = Counter(s.decision for s in screenings[len(dev) :])
    real_failed = Counter(f for s in screenings[len(dev) :] for f in s.failed)
    not_excluded = [
        (r["id"], s.decision, r["title"][:80])
        for r, s in zip(real, screenings[len(dev) :], strict=True)
        if s.decision != "exclude"
    ]
    out = sys.stdout
    out.write(
        f"screened {total} records ({len(dev)} dev + {len(real)} real abstracts"
        f" x {args.repeat}) in {elapsed:.2f} s: {rate:,.0f} records/s on one core"
        " (every criterion evaluated)\n"
    )
    out.write(
        f"short-circuit screener: {fast_elapsed:.2f} s: {total / fast_elapsed:,.0f} records/s"
        f" on one core (same decision on {same}/{len(records)} records)\n"
    )
    out.write(
        "per criterion (us/record, cold doc cache): "
        + ", ".join(f"{k} {v:.0f}" for k, v in per_criterion.items())
        + "\n"
    )
    out.write(f"real off-topic abstracts: decisions {dict(real_decisions)}\n")
    out.write(f"  criteria that excluded them: {dict(real_failed)}\n")
    for rid, decision, title in not_excluded[:15]:
        out.write(f"  not excluded: {rid} {decision}: {title}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
