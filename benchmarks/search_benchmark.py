"""Search of a large review: the time of one records-page request (count + first page).

Run:  .venv/bin/python -m benchmarks.search_benchmark [--records 100000] [--database URL]

Builds a review in a fresh SQLite file (or the database URL given, which must be empty)
with synthetic titles and abstracts (Zipf-like filler words, one word in 25 from a topical
list, so a topical word is in about one record in three), authors, journals, years and a
machine screening for 80 % of records.
Then times ``search_records`` (what ``GET .../records?q=`` does) for each query form,
best of three. Issue 13 asks for search that is "fast on 100,000 records".
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TOPICAL = (
    "psilocybin", "lsd", "mood", "anxiety", "depression", "trial", "placebo", "controlled",
    "randomised", "dose", "low", "microdosing", "adults", "cognition", "open", "label",
    "study", "ketamine", "mdma", "sleep", "pain", "creativity", "wellbeing", "safety",
)  # fmt: skip
NAMES = ("Smith", "Jones", "Brown", "Garcia", "Chen", "Müller", "Okafor", "Tanaka")
JOURNALS = ("Psychopharmacology", "J Psychedelic Stud", "Lancet Psychiatry", "BMJ Open")
QUERIES = (
    ("one word", "psilocybin", None),
    ("two words", "psilocybin mood", None),
    ("phrase", '"w2x w3x"', None),
    ("prefix", "psilocyb*", None),
    ("rare word", "wellbeing creativity sleep", None),
    ("author", "author:okafor", None),
    ("journal and year", 'journal:"lancet psychiatry" year:2019..2021', None),
    ("words by p_include", "psilocybin anxiety", "p_include"),
    ("PMID", "pmid:10050000", None),
    ("no query, newest", "", None),
)


def build(engine: Any, n: int, seed: int = 13) -> int:
    """The review's rows, inserted in bulk; returns the review's id."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from services.db.models import Record, Review, ReviewRecord, Screening

    rng = random.Random(seed)
    with Session(engine) as session:
        review = Review(slug="bench", title="Bench", query="q", protocol_version="1")
        session.add(review)
        session.flush()
        assert review.id is not None
        filler = [f"w{k}x" for k in range(5000)]

        def words(k: int) -> str:
            """Filler words Zipf-like (a few common, most rare), a topical word in 1 of 5."""
            out = [filler[int(rng.paretovariate(1.0)) % len(filler)] for _ in range(k)]
            for i in range(0, k, 5):
                if rng.random() < 0.2:
                    out[i] = rng.choice(TOPICAL)
            return " ".join(out)

        for start in range(0, n, 10_000):
            rows = []
            for i in range(start, min(n, start + 10_000)):
                title = words(10).capitalize()
                rows.append(
                    Record(
                        pmid=str(10_000_000 + i), title=title,
                        abstract=words(200),
                        journal=rng.choice(JOURNALS), year=rng.randint(2000, 2025),
                        data={"authors": [f"{rng.choice(NAMES)}, {chr(65 + i % 26)}"
                                          for _ in range(3)]},
                        content_hash=f"h{i}",
                    ).model_dump(exclude={"id"})
                )  # fmt: skip
            session.execute(sa.insert(Record), rows)
        ids = list(session.execute(sa.select(Record.id, Record.content_hash)).all())
        members, screenings = [], []
        for rid, digest in ids:
            p = rng.random()
            screened = rng.random() < 0.8
            members.append(
                ReviewRecord(review_id=review.id, record_id=rid,
                             priority=p if screened else -1.0).model_dump()
            )  # fmt: skip
            if screened:
                screenings.append(
                    Screening(review_id=review.id, record_id=rid, protocol_version="1",
                              content_hash=digest, decision="include" if p > 0.5 else "exclude",
                              p_include=p, criteria={}).model_dump(exclude={"id"})
                )  # fmt: skip
        session.execute(sa.insert(ReviewRecord), members)
        session.execute(sa.insert(Screening), screenings)
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
    from services.search import parse, search_records

    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        t0 = time.perf_counter()
        review_id = build(engine, args.records)
        print(f"records {args.records:,} (built in {time.perf_counter() - t0:.1f} s) "
              f"on {url.split(':')[0]}")  # fmt: skip
        for label, raw, sort in QUERIES:
            times, total = [], 0
            for _ in range(3):
                t0 = time.perf_counter()
                with Session(engine) as session:
                    total, _rows = search_records(
                        session=session, review_id=review_id, required=1,
                        query=parse(raw), sort=sort, limit=50,
                    )  # fmt: skip
                times.append(time.perf_counter() - t0)
            best, worst = min(times) * 1000, max(times) * 1000
            print(f"  {label:<20} {raw!r:<45} {total:>7,} found  "
                  f"best {best:7.1f} ms, worst {worst:7.1f} ms")  # fmt: skip
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
