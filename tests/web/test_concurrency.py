"""Twenty reviewers at once against a real server: no record twice, none lost."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from services.db.reviewing import Claim, Decision
from tests.web import factories as f
from tests.web.conftest import Env, LiveServer

REVIEWERS = 20


def screen_all(base: str, token: str, slug: str, start: threading.Barrier) -> list[int]:
    """One reviewer's loop: claim, decide, until the queue says 204."""
    got: list[int] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        start.wait()
        while True:
            r = c.post(f"/api/v1/reviews/{slug}/next")
            if r.status_code == 204:
                return got
            assert r.status_code == 200, r.text
            rid = r.json()["id"]
            got.append(rid)
            decision = "include" if rid % 2 else "exclude"
            d = c.post(
                f"/api/v1/reviews/{slug}/records/{rid}/decisions", json={"decision": decision}
            )
            assert d.status_code == 201, d.text


@pytest.mark.parametrize("screening", ["single", "dual"])
def test_twenty_reviewers(env: Env, screening: str) -> None:
    n = 120 if screening == "single" else 60
    proto = f.protocol(screening=screening)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        ids = [r.id for r in f.records(s, rev, n)]
        tokens = [f.user(s, f"r{i}") for i in range(REVIEWERS)]
        s.commit()
    start = threading.Barrier(REVIEWERS)
    with LiveServer(env.app()) as base, ThreadPoolExecutor(REVIEWERS) as pool:
        futures = [pool.submit(screen_all, base, t, proto.slug, start) for t in tokens]
        results = [fut.result(timeout=120) for fut in futures]
    per_reviewer_twice = [rid for got in results for rid, k in Counter(got).items() if k > 1]
    assert per_reviewer_twice == []  # a reviewer never gets a record twice
    handed_out = Counter(rid for got in results for rid in got)
    need = proto.required_decisions
    assert set(handed_out) == set(ids)  # none lost
    assert all(k == need for k in handed_out.values())  # never double-assigned beyond the need
    with env.session() as s:
        per_record = Counter(
            s.execute(sa.select(Decision.record_id).where(Decision.is_current)).scalars()
        )
        assert per_record == Counter({rid: need for rid in ids})
        assert s.execute(sa.select(sa.func.count()).select_from(Claim)).scalar_one() == n * need
