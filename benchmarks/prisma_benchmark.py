"""PRISMA diagram of a large review: time to count the numbers and draw the SVG.

Run:  .venv/bin/python -m benchmarks.prisma_benchmark [--records 100000] [--database URL]

Builds a review in a fresh SQLite file (or the database URL given, which must be empty):
half its records from two PubMed sweeps, half from one import, 2 % non-primary duplicate
members, 1 % withdrawn, 30 % excluded with reasons and 10 % included by a reviewer. Then
times ``prisma_numbers`` + ``render_svg`` (what ``GET .../prisma.svg`` does per request),
best of three. No target is set by the issue; the figure says whether the route needs a
cache.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REASONS = ("psilocybin", "low_dose", "controlled", "primary_study")


def build(engine: Any, n: int) -> Any:
    """The review's rows, inserted in bulk; returns the review's id."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from services.db.imports import (
        DUPLICATE,
        DuplicateGroup,
        DuplicateMember,
        ImportRecord,
        ImportRun,
    )
    from services.db.models import Record, Review, ReviewRecord, Sweep, utcnow
    from services.db.reviewing import Decision, User

    with Session(engine) as session:
        review = Review(slug="bench", title="Bench", query="q", protocol_version="1")
        session.add(review)
        session.flush()
        start = utcnow() - timedelta(days=2)
        sweeps = [
            Sweep(review_id=review.id, state="succeeded", mindate="2020/01/01",
                  maxdate="2020/12/31", started_at=start + timedelta(days=d))
            for d in (0, 1)
        ]  # fmt: skip
        run = ImportRun(review_id=review.id, file_name="big.ris", format="ris",
                        content_hash="0" * 64, state="succeeded")  # fmt: skip
        user = User(name="bench", role="reviewer", token_hash="1" * 64)
        session.add_all([*sweeps, run, user])
        session.flush()
        now = utcnow()
        records = [
            Record(pmid=str(10_000_000 + i), title=f"Record {i}", content_hash="h",
                   deleted=i % 100 == 0).model_dump(exclude={"id"})
            for i in range(n)
        ]  # fmt: skip
        session.execute(sa.insert(Record), records)
        ids = [r for (r,) in session.execute(sa.select(Record.id).order_by(Record.id))]
        members, decisions, imported = [], [], []
        for i, rid in enumerate(ids):
            swept = i % 2 == 0
            members.append(
                ReviewRecord(
                    review_id=review.id, record_id=rid,
                    first_sweep_id=sweeps[i % 4 == 0].id if swept else None,
                    added_at=start + timedelta(hours=1 if i < n // 2 else 30),
                ).model_dump()
            )  # fmt: skip
            if not swept:
                imported.append({"import_id": run.id, "record_id": rid, "row": f"record {i}"})
            kind = i % 10
            if kind < 3:
                decisions.append(
                    Decision(review_id=review.id, record_id=rid, user_id=user.id,
                             decision="exclude", reasons=[REASONS[i % 4]],
                             created_at=now).model_dump(exclude={"id"})
                )  # fmt: skip
            elif kind == 3:
                decisions.append(
                    Decision(review_id=review.id, record_id=rid, user_id=user.id,
                             decision="include", created_at=now).model_dump(exclude={"id"})
                )  # fmt: skip
        session.execute(sa.insert(ReviewRecord), members)
        session.execute(sa.insert(ImportRecord), imported)
        session.execute(sa.insert(Decision), decisions)
        for j in range(0, n - 2, 100):  # 2 %: a primary and two duplicates every 100 records
            group = DuplicateGroup(review_id=review.id, primary_record_id=ids[j])
            session.add(group)
            session.flush()
            for rid in (ids[j + 1], ids[j + 2]):
                member = DuplicateMember(
                    group_id=group.id, record_id=rid, review_id=review.id, role=DUPLICATE,
                    reason="doi",
                )  # fmt: skip
                session.add(member)
        session.commit()
        return review.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database", help="an empty database URL (default: a temp SQLite)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from sqlmodel import Session

    from services.db.engine import make_engine, migrate
    from services.db.models import Review
    from services.reports.prisma import prisma_numbers
    from services.reports.prisma_svg import render_svg

    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        t0 = time.perf_counter()
        review_id = build(engine, args.records)
        built = time.perf_counter() - t0
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            with Session(engine) as session:
                review = session.get(Review, review_id)
                numbers = prisma_numbers(session=session, review=review, required=1)
            svg = render_svg(numbers)
            times.append(time.perf_counter() - t0)
        engine.dispose()
    flow = numbers.flow
    print(f"records {args.records:,} (built in {built:.1f} s) on {url.split(':')[0]}")
    print(f"  identified {flow.identified:,}, duplicates {flow.duplicates_removed:,}, "
          f"screened {flow.screened:,}, included {flow.included:,}, previous "
          f"{numbers.previous_included}")  # fmt: skip
    print(f"  prisma_numbers + render_svg: best {min(times):.3f} s, "
          f"worst {max(times):.3f} s of 3; SVG {len(svg):,} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
