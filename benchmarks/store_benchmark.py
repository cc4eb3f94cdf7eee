"""Where storing records goes: ``store_records`` on SQLite, by how the FTS5 index is filled.

Run:  .venv/bin/python -m benchmarks.store_benchmark [--records 20000]

Reads the import benchmark's RIS file (built on first use in benchmarks/out/), then stores
its records in batches of 1,000, each batch committed, into a fresh SQLite file three ways:
as the service does (each batch indexed for search in one statement, migration 0015), row
by row through the insert trigger (as before 0015), and with no search index at all, in
CPU seconds of this process, so a loaded machine changes little. The differences are what
full-text indexing costs a sweep or an import (issues 12 and 14: import at 5,000
records/s before screening; sweep at 1,500 records/s end to end).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BATCH = 1000


MODES = ("in bulk", "row by row", "none")


def store_seconds(records: list[Any], *, mode: str) -> float:
    """CPU seconds to store ``records`` in a fresh migrated SQLite database."""
    from sqlmodel import Session

    from services.db.engine import make_engine, migrate
    from services.db.models import Review
    from services.pipeline import store

    bulk = store.insert_indexed_in_bulk
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/store.db")
        migrate(engine)
        if mode != "in bulk":  # the trigger alone (or nothing) indexes what goes in
            store.insert_indexed_in_bulk = lambda _session, insert: insert()  # type: ignore[assignment]
        if mode == "none":
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP TRIGGER records_fts_insert")
        with Session(engine) as session:
            review = Review(slug="bench", title="Bench", query="q", protocol_version="1")
            session.add(review)
            session.commit()
            assert review.id is not None
            started = time.process_time()
            for start in range(0, len(records), BATCH):
                store.store_records(
                    session=session, records=records[start : start + BATCH],
                    review_id=review.id, sweep_id=None,
                )  # fmt: skip
                session.commit()
            seconds = time.process_time() - started
        engine.dispose()
    store.insert_indexed_in_bulk = bulk  # type: ignore[assignment]
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from benchmarks.import_benchmark import DEFAULT_OUT, build_file
    from services.imports.items import Good
    from services.imports.readers import read_items
    from services.imports.source import open_source

    path = build_file("ris", args.records, DEFAULT_OUT)
    started = time.process_time()
    records = [i.record for i in read_items(open_source(path), "ris") if isinstance(i, Good)]
    reading = time.process_time() - started
    for number, record in enumerate(records):
        record.pmid = f"bench{number}"  # natural keys, as an import sets them
    n = len(records)
    print(f"{n:,} records, CPU seconds (records/s):")
    print(f"  read the RIS file                {reading:6.2f} ({n / reading:,.0f})")
    for mode in MODES:
        seconds = store_seconds(records, mode=mode)
        print(f"  store, search index {mode:<11} {seconds:6.2f} ({n / seconds:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
