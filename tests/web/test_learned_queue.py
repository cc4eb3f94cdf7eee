"""The queue learns from its reviewers (SQLite and PostgreSQL): the rules order it until the
first include, then the learned model does; each claim and decision carries the model
version that ranked the record; the stopping rule's verdict is kept with each ranking run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlmodel import Session, col, select

from services import reviewing
from services.db.models import Review
from services.db.reviewing import Claim, Decision
from services.db.runs import RankingRun
from services.reviewing.learned import RULES, decided_since, latest_run, retrain
from services.reviewing.order import rank_queue
from tests.web import factories as f
from tests.web.conftest import Env

LEASE = timedelta(minutes=10)
ON_TOPIC = "Psilocybin microdosing in a randomised placebo controlled trial of mood"
OFF_TOPIC = "Coffee drinking habits in a survey of office workers and their sleep"


def make_review(s: Session) -> tuple[Review, list[int], list[int]]:
    """20 on-topic and 20 off-topic records whose rules' p_include says little (0.5, off-topic
    ones first by age; one on-topic record at 0.9), so only learning can put the on-topic
    ones on top."""
    rev = f.review(s, f.protocol("learn"))
    on, off = [], []
    for i in range(20):
        on.append(f.record(s, rev, str(100 + i), title=f"{ON_TOPIC} {i}", abstract=ON_TOPIC,
                           p_include=0.9 if i == 0 else 0.5, age_days=10 + i).id)  # fmt: skip
        off.append(f.record(s, rev, str(200 + i), title=f"{OFF_TOPIC} {i}", abstract=OFF_TOPIC,
                            p_include=0.5, age_days=i).id)  # fmt: skip
    return rev, on, off  # type: ignore[return-value]


def screen_next(s: Session, review_id: int, on: list[int]) -> int:
    """Claim the queue's next record and decide it as a careful reviewer would."""
    claimed = reviewing.claim_next(session=s, review_id=review_id, user_id=1, required=1,
                                   lease=LEASE)  # fmt: skip
    assert claimed is not None
    record_id = claimed.claim.record_id
    reviewing.record_decision(
        session=s, review_id=review_id, record_id=record_id, user_id=1,
        decision="include" if record_id in on else "exclude", required=1,
    )  # fmt: skip
    s.commit()
    return record_id


def test_the_rules_order_until_the_first_include_then_the_model_learns(env: Env) -> None:
    with env.session() as s:
        rev, on, off = make_review(s)
        f.user(s, "ann")
        s.commit()
        assert rev.id is not None
        first = retrain(session=s, review_id=rev.id, required=1)
        s.commit()
        assert (first.model_version, first.learned) == (RULES, False)
        head = rank_queue(session=s, review_id=rev.id, required=1, limit=10)
        assert head[0] == on[0] and set(head[1:]) <= set(off)  # ties broken by age

        assert screen_next(s, rev.id, on) == on[0]  # the rules' best guess
        assert screen_next(s, rev.id, on) in off  # then the ties, newest first
        assert decided_since(session=s, review_id=rev.id, run=first) == 2
        learned = retrain(session=s, review_id=rev.id, required=1)
        s.commit()
        assert learned.learned and learned.model_version.startswith("rk-")
        assert (learned.labelled, learned.includes, learned.records) == (2, 1, 40)
        assert learned.spec["model"]["name"] and learned.seconds >= 0
        head = rank_queue(session=s, review_id=rev.id, required=1, limit=19)
        assert set(head) == set(on[1:])  # every remaining on-topic record now comes first

        third = screen_next(s, rev.id, on)
        assert third in on
        claim = s.exec(select(Claim).where(Claim.record_id == third)).one()
        decision = s.exec(select(Decision).where(Decision.record_id == third)).one()
        assert claim.model_version == decision.model_version == learned.model_version
        again = retrain(session=s, review_id=rev.id, required=1)
        s.commit()
        assert again.model_version != learned.model_version  # new labels, new model
        assert latest_run(session=s, review_id=rev.id) == again


def test_the_stopping_rule_waits_for_evidence_and_then_allows_stopping(env: Env) -> None:
    with env.session() as s:
        rev, on, off = make_review(s)
        f.user(s, "ann")
        s.commit()
        assert rev.id is not None
        for _ in range(5):
            screen_next(s, rev.id, on)
        early = retrain(session=s, review_id=rev.id, required=1)
        s.commit()
        assert early.can_stop is False
        assert early.estimated_recall is not None and early.estimated_recall < 0.95
        for _ in range(35):  # the rest, in the learned order: the includes first
            screen_next(s, rev.id, on)
        done = retrain(session=s, review_id=rev.id, required=1)
        s.commit()
        assert done.can_stop is True and done.recall_lower_bound == 1.0
        runs = s.exec(select(RankingRun).order_by(col(RankingRun.id))).all()
        assert [r.can_stop for r in runs] == [False, True]


def test_features_are_reused_between_decisions_and_rebuilt_when_a_record_changes(
    env: Env,
) -> None:
    from services.db.models import Record
    from services.reviewing.learned import FeatureCache, review_rows

    cache = FeatureCache()
    with env.session() as s:
        rev, on, _ = make_review(s)
        f.user(s, "ann")
        s.commit()
        assert rev.id is not None
        screen_next(s, rev.id, on)
        screen_next(s, rev.id, on)
        first = review_rows(session=s, review_id=rev.id, required=1, cache=cache).features
        screen_next(s, rev.id, on)  # a new label only
        again = review_rows(session=s, review_id=rev.id, required=1, cache=cache).features
        assert first is not None and again is first  # not rebuilt
        record = s.get(Record, on[5])
        assert record is not None
        record.content_hash = "revised"  # PubMed revised it
        s.add(record)
        s.commit()
        rebuilt = review_rows(session=s, review_id=rev.id, required=1, cache=cache).features
        assert rebuilt is not None and rebuilt is not first


def test_the_api_and_the_dashboard_show_the_model_the_stopping_advice_and_the_curve(
    env: Env, client_for: Callable[..., httpx.Client]
) -> None:
    from lxml import html

    from tests.web.test_auth import sign_in

    with env.session() as s:
        rev, on, _ = make_review(s)
        token = f.user(s, "ann", "admin")
        s.commit()
        assert rev.id is not None
        env.add_protocol(f.protocol("learn"))
        for _ in range(6):
            screen_next(s, rev.id, on)
        run = retrain(session=s, review_id=rev.id, required=1)
        s.commit()
    summary = client_for(token).get("/api/v1/reviews/learn").json()
    assert summary["model_version"] == run.model_version and run.learned
    assert summary["can_stop"] is False
    assert summary["estimated_recall"] == run.estimated_recall
    page = html.fromstring(sign_in(client_for(), token).get("/reviews/learn").text)
    stopping = page.get_element_by_id("stopping").text_content()
    assert run.model_version in stopping and "keep screening" in stopping
    curve = page.get_element_by_id("recall-curve")
    assert "6 of 40 records screened" in curve.get("aria-label")
    assert len(curve.find_class("found")[0].get("points").split()) == 7  # 0..6 screened
