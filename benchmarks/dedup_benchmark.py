"""Deduplication of 100,000 records: time, and precision and recall on known duplicates.

Run:  .venv/bin/python -m benchmarks.dedup_benchmark [--copies 2] [--originals N]

The records are every distinct real record of the shared data (PubMed XML and the
screening datasets' CSV files, about 33,000) plus up to ``--copies`` altered copies of each
(title case, punctuation, a typo, author written another way, DOI as URL or missing,
year one off: see tests/imports/duplicate_set.py), cut at ``--records`` (100,000).
Targets (issue 12): under 60 s; precision >= 0.99, recall >= 0.95.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LIVESCREEN_SHARED_DATA", REPO.parent / "shared" / "data"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=None, help="default: all (~33,000)")
    parser.add_argument("--copies", type=int, default=3, help="copies per original, at most")
    parser.add_argument("--records", type=int, default=100_000, help="cut the set to this size")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from classifiers.dedup import TITLE_THRESHOLD, find_duplicates, group
    from tests.imports.duplicate_set import build, precision_recall

    started = time.perf_counter()
    items, truth = build(
        SHARED_DATA, originals=args.originals, duplicated=10**9, copies=args.copies
    )
    items = items[: args.records]  # copies come last: the cut drops whole copies
    truth = {(a, b) for a, b in truth if b <= args.records}
    built = time.perf_counter() - started
    started = time.perf_counter()
    groups = group(find_duplicates(items), {item.id: item for item in items})
    seconds = time.perf_counter() - started
    precision, recall, predicted, true = precision_recall(groups, truth)
    result = {
        "records": len(items),
        "true_pairs": true,
        "predicted_pairs": predicted,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "seconds": round(seconds, 1),
        "records_per_second": round(len(items) / seconds),
        "threshold": TITLE_THRESHOLD,
        "set_built_in_seconds": round(built, 1),
    }
    print(json.dumps(result))
    ok = seconds < 60 and precision >= 0.99 and recall >= 0.95
    print("targets (<60 s, precision >= 0.99, recall >= 0.95):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
