"""What per-review access and the "changed since decided" count cost a request.

Run:  .venv/bin/python -m benchmarks.access_benchmark [--records 20000] [--database URL]

Builds a review like ``search_benchmark`` does (in a fresh SQLite file, or the empty
database URL given), has one reviewer decide every record, stores a second version of one
record in 100 (a PubMed revision after the decision), and grants 500 users access to 5
reviews each. Then times, best of five: the access check every guarded request makes
(``role_in_review``), the revised filter's set (``revised_in_review``) and the whole
``counts`` of a dashboard, which now includes that count.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.search_benchmark import REPO, build


def revise_and_grant(engine: Any, review_id: int) -> int:
    """Decisions on every record, revisions of 1 in 100, memberships; the reviewer's id."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from services.db.models import Record, RecordVersion, utcnow
    from services.db.reviewing import Decision, ReviewMember
    from services.web.accounts import create_user

    decided_at = utcnow()
    with Session(engine) as session:
        reviewer, _ = create_user(session=session, name="alice", role="reviewer")
        others = [
            create_user(session=session, name=f"u{i}", role="reviewer")[0] for i in range(500)
        ]
        session.flush()
        assert reviewer.id is not None
        ids = list(session.execute(sa.select(Record.id, Record.content_hash)).all())
        before = decided_at - timedelta(days=1)
        session.execute(
            sa.insert(RecordVersion),
            [
                {"record_id": rid, "version": 1, "content_hash": digest, "data": {},
                 "created_at": before}
                for rid, digest in ids
            ],
        )  # fmt: skip
        session.execute(
            sa.insert(Decision),
            [
                Decision(review_id=review_id, record_id=rid, user_id=reviewer.id,
                         decision="include", created_at=decided_at).model_dump(exclude={"id"})
                for rid, _ in ids
            ],
        )  # fmt: skip
        revised = [rid for i, (rid, _) in enumerate(ids) if i % 100 == 0]
        later = decided_at + timedelta(hours=1)
        session.execute(
            sa.insert(RecordVersion),
            [
                {"record_id": rid, "version": 2, "content_hash": f"new{rid}", "data": {},
                 "created_at": later}
                for rid in revised
            ],
        )  # fmt: skip
        for rid in revised:
            session.execute(
                sa.update(Record).where(Record.id == rid).values(content_hash=f"new{rid}")
            )
        members = [{"review_slug": "bench", "user_id": reviewer.id, "role": "reviewer"}]
        members += [
            {"review_slug": f"r{(u.id or 0) % 50 + k}", "user_id": u.id, "role": "reviewer"}
            for u in others
            for k in range(5)
        ]
        session.execute(sa.insert(ReviewMember), [{**m, "created_at": decided_at} for m in members])
        session.commit()
        return reviewer.id


def best_ms(run: Callable[[], Any], times: int = 5) -> tuple[float, Any]:
    spent, result = [], None
    for _ in range(times):
        t0 = time.perf_counter()
        result = run()
        spent.append(time.perf_counter() - t0)
    return min(spent) * 1000, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--database", help="an empty database URL (default: a temp SQLite)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from sqlmodel import Session

    from services.db.engine import make_engine, migrate
    from services.db.reviewing import User
    from services.reviewing.access import role_in_review
    from services.reviewing.revisions import revised_in_review
    from services.reviewing.status import counts

    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        t0 = time.perf_counter()
        review_id = build(engine, args.records)
        user_id = revise_and_grant(engine, review_id)
        print(f"records {args.records:,} decided, 1 in 100 revised, 2,501 memberships "
              f"(built in {time.perf_counter() - t0:.1f} s) on {url.split(':')[0]}")  # fmt: skip
        with Session(engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            checks = {
                "access check (member)": lambda: role_in_review(
                    session=session, user=user, slug="bench"
                ),
                "access check (other review)": lambda: role_in_review(
                    session=session, user=user, slug="r7"
                ),
                "revised set": lambda: len(
                    revised_in_review(session=session, review_id=review_id, viewer=user_id)
                ),
                "dashboard counts": lambda: counts(
                    session=session, review_id=review_id, required=1
                )["revised"],
            }
            for label, run in checks.items():
                ms, result = best_ms(run)
                print(f"  {label:<28} {ms:8.2f} ms   ({result!r})")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
