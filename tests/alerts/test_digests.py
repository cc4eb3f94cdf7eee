"""E-mail digests through a real SMTP server, on SQLite and PostgreSQL: one mail per sweep
and subscription however many alerts it holds, and "send even when nothing is new": a
quiet sweep mails one "nothing new" digest to the subscriptions that ask for it, once;
the others hear only when there is news."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import select

from services.alerts.deliver import deliver_due
from services.alerts.subscriptions import subscribe
from services.db.alerts import EmptyDigest
from services.db.models import utcnow
from services.pipeline import chain
from services.pipeline.loop_status import delivery_counts
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL
from tests.alerts.smtp_server import Inbox, smtp_server
from tests.eutils_server import FakeEutils, synthetic_record
from tests.pipeline.test_sweep import make_settings
from tests.registry.server import FakeRegistry

SLUG = "psilocybin-microdosing"
TRIALS = [
    synthetic_record(
        f"4100000{i}",
        title=f"Microdosing psilocybin in healthy adults ({i}): a randomised, placebo-controlled "
        "trial",
        abstract="Adults were randomised to psilocybin 1 mg or placebo on six occasions.",
        edat=date(2026, 3, 1),
    )
    for i in (1, 2, 3)
]


@dataclass
class Mailing:
    runtime: Runtime
    inbox: Inbox

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpt, m in self.inbox.messages if address in rcpt]


@pytest.fixture
def mailing(database_url: str, tmp_path: Path) -> Iterator[Mailing]:
    # The flagship's [clinicaltrials] step asks the local (empty) registry, not the real one.
    with FakeEutils(TRIALS) as fake, smtp_server() as (inbox, port), FakeRegistry() as registry:
        settings = make_settings(
            database_url,
            fake,
            FLAGSHIP_PROTOCOL,
            ncbi_api_key="test",
            smtp_url=SecretStr(f"smtp://127.0.0.1:{port}"),
            clinicaltrials_url=registry.base_url,
        )
        runtime = build_runtime(settings)
        review_id = chain.review_id_of(runtime, SLUG)
        with runtime.sessions() as session:
            for target, send_empty in (("always@example.org", True), ("news@example.org", False)):
                subscribe(
                    session=session,
                    settings=settings,
                    review_id=review_id,
                    channel="email",
                    target=target,
                    send_empty=send_empty,
                    max_records=2,
                )
            session.commit()
        try:
            yield Mailing(runtime, inbox)
        finally:
            runtime.close()


def test_a_quiet_sweep_mails_nothing_new_once_to_those_who_asked(mailing: Mailing) -> None:
    chain.run_pipeline(mailing.runtime, SLUG)  # the trials: news for both
    assert [m["Subject"] for m in mailing.mails_to("news@example.org")] == [
        "[livescreen] Controlled studies of low-dose (micro-dose) psilocybin: 3 new alerts"
    ]
    assert len(mailing.mails_to("always@example.org")) == 1  # news, not also "nothing new"

    chain.run_pipeline(mailing.runtime, SLUG)  # a sweep that finds nothing new
    always = mailing.mails_to("always@example.org")
    assert len(always) == 2
    quiet = always[1]
    assert quiet["Subject"].endswith(": no new alerts")
    assert "No new alerts in this sweep." in quiet.get_body(("plain",)).get_content()
    assert len(mailing.mails_to("news@example.org")) == 1  # no mail without news

    # The steps run again (a redelivered task, a second pass): nothing is sent twice.
    chain.alerts_step(mailing.runtime, SLUG)
    chain.deliver_step(mailing.runtime, SLUG)
    assert len(mailing.inbox.messages) == 3
    with mailing.runtime.sessions() as session:
        (row,) = session.exec(select(EmptyDigest)).all()
    assert (row.state, row.attempts) == ("delivered", 1)


def test_a_sweeps_alerts_go_in_one_digest_however_many_and_show_the_first(
    mailing: Mailing,
) -> None:
    for step in (chain.sweep_step, chain.screen_step, chain.alerts_step):
        step(mailing.runtime, SLUG)
    settings = mailing.runtime.settings
    report = deliver_due(sessions=mailing.runtime.sessions, settings=settings, limit=1)
    assert report.delivered == 6  # 3 alerts to 2 subscriptions, whatever the pass's limit
    (digest,) = mailing.mails_to("news@example.org")
    text = digest.get_body(("plain",)).get_content()
    assert "3 new alerts (the first 2 by p_include are below)." in text
    assert text.count("Microdosing psilocybin in healthy adults") == 2  # max_records
    assert "... and 1 more in the review" in text
    again = deliver_due(sessions=mailing.runtime.sessions, settings=settings)
    assert again.delivered == 0 and len(mailing.inbox.messages) == 2


def test_a_nothing_new_digest_waits_for_an_unreachable_smtp_server(mailing: Mailing) -> None:
    chain.run_pipeline(mailing.runtime, SLUG)
    settings = mailing.runtime.settings
    working = settings.smtp_url
    with smtp_server() as (_, port):
        pass  # nothing listens there any more
    settings.smtp_url = SecretStr(f"smtp://127.0.0.1:{port}")
    chain.run_pipeline(mailing.runtime, SLUG)
    with mailing.runtime.sessions() as session:
        (row,) = session.exec(select(EmptyDigest)).all()
    assert row.state == "pending" and row.last_error  # kept, with the reason shown
    with mailing.runtime.sessions() as session:
        review_id = chain.review_id_of(mailing.runtime, SLUG)
        counts = delivery_counts(session=session, review_id=review_id)
    assert counts["pending"] == 1  # status and the dashboard show it waiting

    settings.smtp_url = working
    later = utcnow() + timedelta(hours=2)
    report = deliver_due(sessions=mailing.runtime.sessions, settings=settings, now=lambda: later)
    assert report.delivered == 1
    assert len(mailing.mails_to("always@example.org")) == 2
