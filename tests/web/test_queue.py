"""The queue's data functions and the database constraints they rely on."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services import reviewing
from services.db.reviewing import Claim, Decision
from tests.web import factories as f
from tests.web.conftest import Env


def test_rank_queue_orders_by_p_include_then_newest(env: Env) -> None:
    proto = f.protocol()
    with env.session() as s:
        rev = f.review(s, proto)
        old = f.record(s, rev, "1", age_days=9)
        new = f.record(s, rev, "2", age_days=1)
        low = f.record(s, rev, "3", p_include=0.1)
        high = f.record(s, rev, "4", p_include=0.9)
        gone = f.record(s, rev, "5", p_include=0.99)
        gone.deleted = True
        s.commit()
        assert rev.id is not None
        order = reviewing.rank_queue(session=s, review_id=rev.id, required=1)
        assert order == [high.id, low.id, new.id, old.id]
        assert reviewing.rank_queue(session=s, review_id=rev.id, required=1, limit=2) == order[:2]


def test_database_keeps_one_current_decision_and_one_holder_per_slot(env: Env) -> None:
    proto = f.protocol()
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(s, rev, "1")
        f.user(s, "a")
        s.commit()
        ids = {"review_id": rev.id, "record_id": rec.id, "user_id": 1}
        s.add(Decision(**ids, decision="include"))
        s.add(Decision(**ids, decision="exclude", is_current=False))  # history is fine
        s.commit()
        s.add(Decision(**ids, decision="exclude"))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()
        s.rollback()
        s.add(Claim(**ids, slot=1, status="active"))
        s.commit()
        s.add(Claim(**{**ids, "user_id": 1}, slot=2, status="active"))  # same reviewer twice
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_claim_next_without_cache_and_lease(env: Env) -> None:
    proto = f.protocol(screening="dual")
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(s, rev, "1", p_include=0.5)
        f.user(s, "a")
        f.user(s, "b")
        s.commit()
        assert rev.id is not None
        lease = timedelta(minutes=10)
        got_a = reviewing.claim_next(
            session=s, review_id=rev.id, user_id=1, required=2, lease=lease
        )
        got_b = reviewing.claim_next(
            session=s, review_id=rev.id, user_id=2, required=2, lease=lease
        )
        assert got_a is not None and got_b is not None
        a, b = got_a.claim, got_b.claim
        assert a.record_id == b.record_id == rec.id
        assert {a.slot, b.slot} == {1, 2}
        s.commit()
        reviewing.record_decision(
            session=s, review_id=rev.id, record_id=rec.id, user_id=1, decision="include", required=2
        )
        reviewing.record_decision(
            session=s, review_id=rev.id, record_id=rec.id, user_id=2, decision="include", required=2
        )
        s.commit()
        assert reviewing.record_status(
            session=s, review_id=rev.id, record_id=rec.id, required=2
        ) == ("included")
        assert reviewing.rank_queue(session=s, review_id=rev.id, required=2) == []
        counts = reviewing.counts(session=s, review_id=rev.id, required=2)
        assert (counts["included"], counts["screened"], counts["remaining"]) == (1, 1, 0)


def test_ranked_queue_rebuilds_a_stale_order_in_the_background(env: Env) -> None:
    proto = f.protocol()
    with env.session() as s:
        rev = f.review(s, proto)
        first = f.record(s, rev, "1", p_include=0.5)
        s.commit()
        assert rev.id is not None
        ranked = reviewing.RankedQueue(ttl=0.0)
        built = ranked.get(session=s, review_id=rev.id, required=1)
        assert built.ids == [first.id]
        better = f.record(s, rev, "2", p_include=0.9)
        s.commit()
        # stale: the old order is served at once while a thread computes the new one
        assert ranked.get(session=s, review_id=rev.id, required=1) is built
        for thread in threading.enumerate():
            if thread.name == f"rank-review-{rev.id}":
                thread.join(timeout=30)
        assert ranked._rankings[rev.id].ids == [better.id, first.id]
        # a fresh order is computed on the spot
        assert ranked.get(session=s, review_id=rev.id, required=1, fresh=True).ids == [
            better.id,
            first.id,
        ]
