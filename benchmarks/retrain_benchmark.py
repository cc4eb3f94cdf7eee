"""Live retraining of a review's queue: retrain + re-rank on 20,000 records, and `next` meanwhile.

    .venv/bin/python -m benchmarks.retrain_benchmark [--records 20000] [--decided 400]

The issue's target: retrain plus re-rank on 20,000 records under 1 s here. The review is
built in SQLite from real titles and abstracts (the Cohen 2006 sets in ../shared/data,
repeated to size), with ``--decided`` settled human decisions among them; the timing is
of :func:`services.reviewing.learned.retrain` as the rank step calls it (reading the
review, building features, training, writing every priority), median of three, split
into its parts. While one retrain runs in a thread, reviewers' ``claim_next`` calls are
timed to show the queue does not wait on training.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from services import reviewing
from services.db.engine import make_engine, migrate, session_factory
from services.db.models import Record, Review, ReviewRecord, Screening, utcnow
from services.db.reviewing import Decision
from services.reviewing.learned import FeatureCache, retrain, review_rows
from services.simulation.datasets import Dataset, read_csv_dataset
from services.web.accounts import create_user

DATA = Path(
    os.environ.get(
        "LIVESCREEN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def real_records(size: int) -> Dataset:
    """Real titles and abstracts from the labelled sets in the shared data, up to ``size``."""
    records, labels = [], []
    for path in sorted(DATA.glob("sr-datasets/*/*.csv")) + sorted(
        DATA.glob("synergy-fiobyr/*.csv")
    ):
        try:
            part = read_csv_dataset(path)
        except ValueError:
            continue  # not a labelled set (an index, say)
        records.extend(part.records)
        labels.extend(part.labels)
        if len(records) >= size:
            return Dataset(name=f"real-{size}", records=records[:size], labels=labels[:size])
    raise SystemExit(f"only {len(records)} records in {DATA}, cannot build {size}")


def build(url: str, n: int, decided: int) -> int:
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    dataset = real_records(n)
    rng = np.random.default_rng(0)
    with sessions() as s:
        review = Review(slug="bench", title="Bench", query="x", protocol_version="v1")
        s.add(review)
        s.flush()
        assert review.id is not None
        now = utcnow()
        rows = [
            {"pmid": str(50_000_000 + i), "title": r.title, "abstract": r.abstract,
             "journal": "J", "year": 2020, "data": {"keywords": list(r.keywords)},
             "content_hash": f"h{i}", "created_at": now, "updated_at": now}
            for i, r in enumerate(dataset.records[:n])
        ]  # fmt: skip
        s.connection().execute(Record.__table__.insert(), rows)  # type: ignore[attr-defined]
        ids = [
            rid
            for (rid,) in s.connection().execute(
                Record.__table__.select()
                .with_only_columns(Record.__table__.c.id)
                .order_by(Record.__table__.c.id)
            )
        ]  # type: ignore[attr-defined]
        p = rng.random(len(ids))
        s.connection().execute(
            ReviewRecord.__table__.insert(),  # type: ignore[attr-defined]
            [{"review_id": review.id, "record_id": rid, "added_at": now, "priority": float(p[i])}
             for i, rid in enumerate(ids)],
        )  # fmt: skip
        s.connection().execute(
            Screening.__table__.insert(),  # type: ignore[attr-defined]
            [{"review_id": review.id, "record_id": rid, "protocol_version": "v1",
              "content_hash": f"h{i}", "decision": "uncertain", "p_include": float(p[i]),
              "criteria": {"substance": {"verdict": "unclear"}}, "created_at": now}
             for i, rid in enumerate(ids)],
        )  # fmt: skip
        user, _ = create_user(session=s, name="bench", role="reviewer")
        includes = [i for i, y in enumerate(dataset.labels[:n]) if y][: max(1, decided // 10)]
        others = [i for i in rng.permutation(len(ids)) if i not in set(includes)]
        chosen = includes + others[: decided - len(includes)]
        s.connection().execute(
            Decision.__table__.insert(),  # type: ignore[attr-defined]
            [{"review_id": review.id, "record_id": ids[i], "user_id": user.id,
              "decision": "include" if dataset.labels[i] else "exclude", "reasons": [],
              "note": "", "is_current": True, "created_at": now, "round": 1}
             for i in chosen],
        )  # fmt: skip
        s.commit()
        review_id = review.id
    engine.dispose()
    return review_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--decided", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/retrain.db"
        review_id = build(url, args.records, args.decided)
        engine = make_engine(url)
        sessions = session_factory(engine)
        cache = FeatureCache()
        with sessions() as s:
            started = time.perf_counter()
            first = retrain(session=s, review_id=review_id, required=1, cache=cache)
            s.commit()
            cold = time.perf_counter() - started
        totals, reads = [], []
        for _ in range(3):  # as between sweeps: new labels, same records (features cached)
            with sessions() as s:
                started = time.perf_counter()
                review_rows(session=s, review_id=review_id, required=1, cache=cache)
                reads.append(time.perf_counter() - started)
            with sessions() as s:
                started = time.perf_counter()
                run = retrain(session=s, review_id=review_id, required=1, cache=cache)
                s.commit()
                totals.append(time.perf_counter() - started)
        total = statistics.median(totals)
        print(
            f"retrain + re-rank of {run.records} records from {run.labelled} decisions "
            f"({run.includes} included), model {run.model_version}: median {total:.2f} s with "
            f"the features cached (of which reading {statistics.median(reads):.2f} s); "
            f"after a sweep (features rebuilt) {cold:.2f} s - target < 1 s: "
            f"{'met' if total < 1 else 'NOT met'}"
        )
        assert first.model_version == run.model_version  # same labels, same model
        latencies: list[float] = []
        stop = threading.Event()

        def retrain_in_background() -> None:
            with sessions() as s:
                retrain(session=s, review_id=review_id, required=1)  # uncached: the worst case
                s.commit()
            stop.set()

        worker = threading.Thread(target=retrain_in_background)
        worker.start()
        with sessions() as s:
            while not stop.is_set():
                began = time.perf_counter()
                claimed = reviewing.claim_next(session=s, review_id=review_id, user_id=1,
                                               required=1, lease=timedelta(minutes=10))  # fmt: skip
                s.rollback()  # leave the queue as it was
                latencies.append(time.perf_counter() - began)
                assert claimed is not None
        worker.join()
        engine.dispose()
        if latencies:
            print(
                f"next during retraining: {len(latencies)} claims, median "
                f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
            )
    return 0 if total < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
