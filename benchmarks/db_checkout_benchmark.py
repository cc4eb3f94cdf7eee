"""What noticing a dropped PostgreSQL connection costs each request (each pool checkout).

    .venv/bin/python -m benchmarks.db_checkout_benchmark [--rounds 3000]
        [--database-url postgresql+psycopg://...]

Three engines on the same server, each timed over the same work a request does at
least once: check a connection out of the pool, run one statement, check it back in
(the pool rolls back). ``none`` is a bare pool (a dropped connection fails a request);
``socket check`` is ``make_engine``'s default, which polls the idle connection's
socket on checkout; ``pre-ping`` is SQLAlchemy's ``pool_pre_ping``, a round trip on
every checkout. The rounds alternate between the engines so that load from other
processes on the machine falls on all three alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from services.db.engine import make_engine  # noqa: E402

DEFAULT_URL = os.environ.get(
    "LIVESCREEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
STATEMENT = sa.text("SELECT 1")


def engines(url: str) -> dict[str, sa.Engine]:
    return {
        "none": sa.create_engine(url, pool_size=1, max_overflow=0),
        "socket check": make_engine(url, pool_size=1, max_overflow=0),
        "pre-ping": make_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True),
    }


def one_round(engine: sa.Engine) -> float:
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(STATEMENT).scalar_one()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    by_name = engines(args.database_url)
    timings: dict[str, list[float]] = {name: [] for name in by_name}
    try:
        for engine in by_name.values():
            for _ in range(50):  # connect and warm up outside the measurement
                one_round(engine)
        for _ in range(args.rounds):
            for name, engine in by_name.items():
                timings[name].append(one_round(engine))
    finally:
        for engine in by_name.values():
            engine.dispose()
    base = statistics.median(timings["none"])
    print(f"{args.rounds} rounds of checkout + SELECT 1 + checkin, per engine:")
    for name, values in timings.items():
        values.sort()
        median = statistics.median(values)
        p99 = values[int(len(values) * 0.99) - 1]
        print(
            f"  {name:<13} median {median * 1e6:7.1f} us   p99 {p99 * 1e6:7.1f} us   "
            f"median over none {(median - base) * 1e6:+7.1f} us"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
