"""The alert outbox on SQLite and PostgreSQL: each event reaches each channel exactly once,
through real local peers (a webhook receiver checking signatures, an SMTP server), across
retries, lapsed leases and repeated passes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from services import reviewing
from services.alerts.deliver import deliver_due
from services.alerts.events import raise_record_alerts
from services.alerts.subscriptions import SubscriptionError, subscribe, unsubscribe
from services.db.alerts import Alert, Delivery
from services.db.engine import make_engine, migrate, session_factory
from services.db.models import Record, Review, Screening, utcnow
from services.settings import Settings
from tests.alerts.receiver import running_receiver, status
from tests.alerts.smtp_server import smtp_server
from tests.web import factories as f


@dataclass
class World:
    sessions: sessionmaker[Session]
    settings: Settings
    review_id: int
    records: list[int]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = make_engine(database_url)
    migrate(engine)
    sessions = session_factory(engine)
    proto = f.protocol(screening="dual")
    with sessions() as s:
        rev = f.review(s, proto)
        likely = f.record(s, rev, "100", title="Low-dose psilocybin trial", p_include=0.9)
        unlikely = f.record(s, rev, "101", p_include=0.1)
        s.commit()
        assert rev.id is not None and likely.id is not None and unlikely.id is not None
        ids = [likely.id, unlikely.id]
        review_id = rev.id
    settings = Settings(database_url=database_url, protocols=[], alerts_allow_private=True)
    try:
        yield World(sessions, settings, review_id, ids)
    finally:
        engine.dispose()


def raise_for(world: World, ids: list[int] | None = None) -> int:
    with world.sessions() as s:
        review = s.get(Review, world.review_id)
        assert review is not None
        n = raise_record_alerts(
            session=s,
            review=review,
            record_ids=ids or world.records,
            is_included=lambda rid: (
                reviewing.record_status(
                    session=s, review_id=world.review_id, record_id=rid, required=2
                )
                == "included"
            ),
        )
        s.commit()
    return n


def deliveries(world: World) -> list[Delivery]:
    with world.sessions() as s:
        return list(s.exec(select(Delivery).order_by(col(Delivery.id))))


def test_a_machine_include_reaches_webhook_and_mail_once(world: World) -> None:
    with running_receiver("hook-secret") as hook, smtp_server() as (inbox, port):
        world.settings.smtp_url = SecretStr(f"smtp://127.0.0.1:{port}")
        with world.sessions() as s:
            subscribe(
                session=s,
                settings=world.settings,
                review_id=world.review_id,
                channel="webhook",
                target=hook.url(),
                secret="hook-secret",
            )
            subscribe(
                session=s,
                settings=world.settings,
                review_id=world.review_id,
                channel="email",
                target="team@example.org",
            )
            s.commit()
        assert raise_for(world) == 1  # only the likely include
        assert raise_for(world) == 0  # raising again adds nothing
        report = deliver_due(sessions=world.sessions, settings=world.settings)
        assert (report.delivered, report.failed, report.retry) == (2, 0, 0)
        again = deliver_due(sessions=world.sessions, settings=world.settings)
        assert again.delivered == again.retry == 0
    assert len(hook.received) == 1 and hook.received[0].signature_ok
    body = json.loads(hook.received[0].body)
    assert body["event"] == "machine_include" and body["record"]["pmid"] == "100"
    assert body["p_include"] == 0.9
    assert hook.received[0].headers["X-Livescreen-Event"] == "machine_include"
    assert len(inbox.messages) == 1
    _, recipients, message = inbox.messages[0]
    assert recipients == ["team@example.org"] and "Low-dose psilocybin trial" in str(message)
    assert {d.state for d in deliveries(world)} == {"delivered"}


def test_a_revised_record_that_becomes_eligible_alerts_once_more(world: World) -> None:
    with world.sessions() as s:
        subscribe(
            session=s,
            settings=world.settings,
            review_id=world.review_id,
            channel="webhook",
            target="http://127.0.0.1:9/hook",
        )
        s.commit()
    assert raise_for(world) == 1
    unlikely = world.records[1]
    with world.sessions() as s:
        record = s.get(Record, unlikely)
        review = s.get(Review, world.review_id)
        assert record is not None and review is not None
        record.abstract = "Revised: a randomised placebo-controlled trial of 1 mg psilocybin."
        record.content_hash = "revised-version"
        s.add(
            Screening(
                review_id=world.review_id,
                record_id=unlikely,
                protocol_version=review.protocol_version,
                content_hash="revised-version",
                decision="include",
                p_include=0.8,
                criteria={},
            )
        )
        s.commit()
    assert raise_for(world) == 1
    assert raise_for(world) == 0
    with world.sessions() as s:
        keys = sorted(a.key for a in s.exec(select(Alert)))
    assert len(keys) == 2 and any("revised-version" in k for k in keys)


def test_uncertain_verdicts_alert_from_the_subscriptions_threshold(world: World) -> None:
    with world.sessions() as s:
        review = s.get(Review, world.review_id)
        assert review is not None
        maybe = f.record(s, review, "102", p_include=0.6)
        screening = s.exec(select(Screening).where(Screening.record_id == maybe.id)).one()
        screening.decision = "uncertain"
        for threshold in (0.5, 0.7):
            subscribe(
                session=s,
                settings=world.settings,
                review_id=world.review_id,
                channel="webhook",
                target=f"http://127.0.0.1:9/{threshold}",
                threshold=threshold,
            )
        s.commit()
        assert maybe.id is not None
        maybe_id = maybe.id
    assert raise_for(world, [maybe_id]) == 1
    with world.sessions() as s:
        targets = s.execute(
            sa.text(
                "select s.target from deliveries d join subscriptions s on s.id = d.subscription_id"
            )
        ).scalars()
        assert list(targets) == ["http://127.0.0.1:9/0.5"]


def test_a_failing_receiver_is_retried_with_the_same_delivery_key(world: World) -> None:
    with running_receiver("s") as hook:
        hook.answer(status(500), status(200))
        with world.sessions() as s:
            subscribe(
                session=s,
                settings=world.settings,
                review_id=world.review_id,
                channel="webhook",
                target=hook.url(),
                secret="s",
            )
            s.commit()
        raise_for(world)
        first = deliver_due(sessions=world.sessions, settings=world.settings, rng=random.Random(1))
        assert first.retry == 1 and "500" in first.errors[0]
        (pending,) = deliveries(world)
        assert pending.state == "pending" and pending.attempts == 1 and "500" in pending.last_error
        assert deliver_due(sessions=world.sessions, settings=world.settings).retry == 0  # not due
        later = utcnow() + timedelta(hours=2)
        second = deliver_due(sessions=world.sessions, settings=world.settings, now=lambda: later)
        assert second.delivered == 1
    keys = [r.headers["X-Livescreen-Delivery"] for r in hook.received]
    assert len(keys) == 2 and keys[0] == keys[1]
    (done,) = deliveries(world)
    assert done.state == "delivered" and done.attempts == 2 and done.last_error == ""


def test_an_unreachable_smtp_server_leaves_the_digest_pending_then_sends_it(
    world: World,
) -> None:
    with smtp_server() as (inbox, port):
        pass  # the port is free again: nothing listens there now
    world.settings.smtp_url = SecretStr(f"smtp://127.0.0.1:{port}")
    with world.sessions() as s:
        subscribe(
            session=s,
            settings=world.settings,
            review_id=world.review_id,
            channel="email",
            target="team@example.org",
        )
        s.commit()
    raise_for(world)
    assert deliver_due(sessions=world.sessions, settings=world.settings).retry == 1
    (pending,) = deliveries(world)
    assert pending.state == "pending" and pending.last_error
    with smtp_server() as (inbox, new_port):
        world.settings.smtp_url = SecretStr(f"smtp://127.0.0.1:{new_port}")
        later = utcnow() + timedelta(hours=2)
        assert (
            deliver_due(
                sessions=world.sessions, settings=world.settings, now=lambda: later
            ).delivered
            == 1
        )
    assert len(inbox.messages) == 1


def test_a_lapsed_lease_is_taken_up_again_and_a_live_one_is_not(world: World) -> None:
    with running_receiver("s") as hook:
        with world.sessions() as s:
            subscribe(
                session=s,
                settings=world.settings,
                review_id=world.review_id,
                channel="webhook",
                target=hook.url(),
                secret="s",
            )
            s.commit()
        raise_for(world)
        now = utcnow()
        with world.sessions() as s:  # a worker took it and died
            s.execute(
                sa.update(Delivery).values(state="sending", lease_until=now + timedelta(minutes=5))
            )
            s.commit()
        assert deliver_due(sessions=world.sessions, settings=world.settings).delivered == 0
        later: datetime = now + timedelta(minutes=6)
        assert (
            deliver_due(
                sessions=world.sessions, settings=world.settings, now=lambda: later
            ).delivered
            == 1
        )
    assert len(hook.received) == 1


def test_humans_including_a_record_alerts_once_and_a_retraction_of_it_alerts_once(
    world: World,
) -> None:
    with world.sessions() as s:
        subscribe(
            session=s,
            settings=world.settings,
            review_id=world.review_id,
            channel="webhook",
            target="http://127.0.0.1:9/hook",
        )
        alice, bob = f.user(s, "alice"), f.user(s, "bob")
        s.commit()
        del alice, bob
        rid = world.records[0]
        lease = timedelta(minutes=10)
        for user_id in (1, 2):
            reviewing.claim_next(
                session=s, review_id=world.review_id, user_id=user_id, required=2, lease=lease
            )
        for user_id in (1, 2):
            reviewing.record_decision(
                session=s,
                review_id=world.review_id,
                record_id=rid,
                user_id=user_id,
                decision="include",
                required=2,
            )
        s.commit()
        events = [(a.event, a.record_id) for a in s.exec(select(Alert))]
        assert events == [("human_include", rid)]
        record = s.get(Record, rid)
        assert record is not None
        record.data = {
            **record.data,
            "retractions": [{"ref_type": "RetractionIn", "pmid": "999", "source": "x"}],
        }
        s.add(record)
        s.commit()
    assert raise_for(world) == 2  # the machine include of this version, and the retraction
    assert raise_for(world) == 0
    with world.sessions() as s:
        events = sorted(a.event for a in s.exec(select(Alert)))
        assert events == ["human_include", "machine_include", "retraction"]
        assert len(list(s.exec(select(Delivery)))) == 3
        record = s.get(Record, rid)
        assert record is not None
        erratum = {"ref_type": "ErratumIn", "pmid": "1001", "source": "J Psy. 2026;1:2"}
        record.data = {**record.data, "errata": [erratum]}
        s.add(record)
        s.commit()
    assert raise_for(world) == 1  # the erratum, once
    assert raise_for(world) == 0
    with world.sessions() as s:
        record = s.get(Record, rid)
        assert record is not None
        later = {"ref_type": "ErratumIn", "pmid": "1002", "source": "J Psy. 2026;2:1"}
        record.data = {**record.data, "errata": [erratum, later]}
        s.add(record)
        s.commit()
    assert raise_for(world) == 1  # a second erratum is news again
    with world.sessions() as s:
        notes = [a.note for a in s.exec(select(Alert).order_by(col(Alert.id)))][-2:]
        assert notes == [
            "an erratum to this included record was published: J Psy. 2026;1:2",
            "an erratum to this included record was published: J Psy. 2026;2:1",
        ]


def test_subscriptions_refuse_private_targets_unless_allowed(world: World) -> None:
    world.settings.alerts_allow_private = False
    with world.sessions() as s:
        for url in ("http://127.0.0.1/hook", "http://169.254.169.254/", "file:///etc/passwd"):
            with pytest.raises(SubscriptionError):
                subscribe(
                    session=s,
                    settings=world.settings,
                    review_id=world.review_id,
                    channel="webhook",
                    target=url,
                )
        with pytest.raises(SubscriptionError, match="e-mail"):
            subscribe(
                session=s,
                settings=world.settings,
                review_id=world.review_id,
                channel="email",
                target="not an address",
            )
        feed = subscribe(
            session=s, settings=world.settings, review_id=world.review_id, channel="atom"
        )
        assert len(feed.feed_token) > 20 and feed.subscription.token_hash != feed.feed_token
        hook = subscribe(
            session=s,
            settings=world.settings,
            review_id=world.review_id,
            channel="webhook",
            target="https://93.184.215.14/hook",
        )
        assert len(hook.secret) > 30  # generated and shown once
        assert hook.subscription.id is not None
        unsubscribe(session=s, subscription_id=hook.subscription.id)
        s.commit()
    assert raise_for(world) == 1
    assert deliveries(world) == []  # the stopped webhook and the feed get no delivery rows
