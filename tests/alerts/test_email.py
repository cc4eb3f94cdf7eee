"""E-mail digests delivered to a real SMTP server (aiosmtpd on 127.0.0.1) and parsed back."""

from __future__ import annotations

import random
import ssl
from collections.abc import Sequence
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from services.alerts.email import DigestContext, DigestOptions, deliver_digest
from services.alerts.outcome import Attempt, Outcome
from services.alerts.payload import AlertPayload
from services.alerts.smtp_url import parse_smtp_url
from tests.alerts.conftest import NOW, MakeAlert, free_port
from tests.alerts.smtp_server import PASSWORD, USER, smtp_server
from tests.alerts.tls import client_context

CTX = DigestContext(
    review_slug="psilocybin-microdosing",
    review_title="Psilocybin microdosing <RCTs> & co",
    sweep_label="#12, 2026-12-02",
    review_url="https://livescreen.example.org/reviews/psilocybin-microdosing",
    sender="livescreen@lab.example.org",
    recipient="Dr Reviewer <reviewer@lab.example.org>",
    sent_at=NOW,
)


def deliver(
    alerts: Sequence[AlertPayload],
    url: str,
    *,
    options: DigestOptions | None = None,
    ctx: DigestContext = CTX,
    ssl_context: ssl.SSLContext | None = None,
) -> Outcome:
    return deliver_digest(
        alerts,
        ctx=ctx,
        options=options or DigestOptions(),
        config=parse_smtp_url(url),
        attempt=Attempt.first(NOW),
        timeout=5.0,
        rng=random.Random(5),
        ssl_context=ssl_context,
    )


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    # line endings are CRLF on the wire
    return plain.get_content().replace("\r\n", "\n"), html.get_content()


def test_one_digest_ranked_by_p_include_with_both_parts(make_alert: MakeAlert):
    alerts = [
        make_alert(p_include=0.55, title="Mid trial"),
        make_alert(p_include=0.99, title="Top trial"),
        make_alert(p_include=0.75, title="Second trial"),
    ]
    with smtp_server() as (inbox, port):
        outcome = deliver(alerts, f"smtp://127.0.0.1:{port}")

    assert outcome.status == "delivered", outcome.reason
    [(sender, recipients, message)] = inbox.messages
    assert sender == "livescreen@lab.example.org"
    assert recipients == ["reviewer@lab.example.org"]
    assert message["Subject"] == "[livescreen] Psilocybin microdosing <RCTs> & co: 3 new alerts"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    positions = [text.index(t) for t in ("Top trial", "Second trial", "Mid trial")]
    assert positions == sorted(positions)
    assert [html.index(t) for t in ("Top trial", "Second trial", "Mid trial")] == sorted(
        html.index(t) for t in ("Top trial", "Second trial", "Mid trial")
    )
    # each record's verdicts on one line, its p_include and its page
    assert "   substance: met; design: met; dose: unclear\n" in text
    assert "p_include 0.99" in text
    assert alerts[1].record_url in text
    assert f'href="{alerts[1].record_url}"' in html


def test_the_html_part_escapes_what_records_contain(make_alert: MakeAlert):
    alert = make_alert(title='<script>alert("x")</script> & psilocybin')
    with smtp_server() as (inbox, port):
        deliver([alert], f"smtp://127.0.0.1:{port}")
    text, html = parts(inbox.messages[0][2])
    assert '<script>alert("x")</script> & psilocybin' in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; psilocybin" in html
    assert "Psilocybin microdosing &lt;RCTs&gt; &amp; co" in html


def test_at_most_n_records_per_mail_keeps_the_most_likely(make_alert: MakeAlert):
    alerts = [make_alert(p_include=p / 10, title=f"Trial p{p}") for p in (3, 9, 5, 7, 8)]
    with smtp_server() as (inbox, port):
        outcome = deliver(alerts, f"smtp://127.0.0.1:{port}", options=DigestOptions(max_records=2))

    assert outcome.status == "delivered"
    [(_, _, message)] = inbox.messages
    assert "5 new alerts" in message["Subject"]
    text, html = parts(message)
    assert "Trial p9" in text and "Trial p8" in text
    assert not any(f"Trial p{p}" in text or f"Trial p{p}" in html for p in (7, 5, 3))
    assert "... and 3 more in the review" in text
    assert "and 3 more in" in html
    assert html.count("<li>") == 2


def test_nothing_new_sends_nothing_unless_asked(make_alert: MakeAlert):
    with smtp_server() as (inbox, port):
        skipped = deliver([], f"smtp://127.0.0.1:{port}")
        assert skipped.status == "skipped"
        assert inbox.messages == []

        sent = deliver([], f"smtp://127.0.0.1:{port}", options=DigestOptions(send_when_empty=True))
    assert sent.status == "delivered"
    [(_, _, message)] = inbox.messages
    assert message["Subject"].endswith(": no new alerts")
    text, _ = parts(message)
    assert "No new alerts in this sweep." in text


def test_an_unreachable_server_is_retry_later_not_an_exception(make_alert: MakeAlert):
    outcome = deliver([make_alert()], f"smtp://127.0.0.1:{free_port()}")
    assert outcome.status == "retry"
    assert outcome.next_attempt_at is not None and outcome.next_attempt_at > NOW
    assert "cannot reach smtp://127.0.0.1" in outcome.reason


def test_a_temporary_refusal_retries_and_a_permanent_one_fails(make_alert: MakeAlert):
    with smtp_server() as (inbox, port):
        inbox.rcpt_answer = "450 mailbox busy"
        busy = deliver([make_alert()], f"smtp://127.0.0.1:{port}")
        inbox.rcpt_answer = "550 no such user"
        unknown = deliver([make_alert()], f"smtp://127.0.0.1:{port}")
    assert busy.status == "retry" and "450" in busy.reason
    assert unknown.status == "failed" and "550 no such user" in unknown.reason
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("reviewer\r\nBcc: everyone@example.org", "contains a line break"),
        ("not an address", "is not an e-mail address"),
    ],
)
def test_a_bad_recipient_fails_with_a_message(make_alert: MakeAlert, recipient: str, message: str):
    outcome = deliver([make_alert()], "smtp://127.0.0.1:9", ctx=replace(CTX, recipient=recipient))
    assert outcome.status == "failed"
    assert "cannot build the digest: recipient" in outcome.reason and message in outcome.reason


def test_starttls_and_login(make_alert: MakeAlert, certificate: tuple[Path, Path]):
    trusted = client_context(certificate)
    with smtp_server(tls="starttls", certificate=certificate, login=True) as (inbox, port):
        url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}?starttls=1"
        sent = deliver([make_alert()], url, ssl_context=trusted)
        wrong = deliver([make_alert()], url.replace(PASSWORD, "wrong"), ssl_context=trusted)
    assert sent.status == "delivered", sent.reason
    assert wrong.status == "failed" and "rejected the login" in wrong.reason
    assert PASSWORD not in wrong.reason and "wrong" not in wrong.reason
    assert len(inbox.messages) == 1


def test_implicit_tls_with_smtps(make_alert: MakeAlert, certificate: tuple[Path, Path]):
    trusted = client_context(certificate)
    with smtp_server(tls="implicit", certificate=certificate) as (inbox, port):
        sent = deliver([make_alert()], f"smtps://127.0.0.1:{port}", ssl_context=trusted)
        untrusted = deliver([make_alert()], f"smtps://127.0.0.1:{port}")
    assert sent.status == "delivered", sent.reason
    assert untrusted.status == "retry" and "CERTIFICATE_VERIFY_FAILED" in untrusted.reason
    assert len(inbox.messages) == 1


def test_a_resent_digest_keeps_its_message_id(make_alert: MakeAlert):
    """Mail clients collapse a digest re-sent after a crash, since it is the same message."""
    ctx = replace(CTX, delivery_id="sweep-12/sub-3")
    with smtp_server() as (inbox, port):
        for _ in range(2):
            deliver([make_alert()], f"smtp://127.0.0.1:{port}", ctx=ctx)
        deliver([make_alert()], f"smtp://127.0.0.1:{port}")
    ids = [message["Message-ID"] for _, _, message in inbox.messages]
    assert ids[0] == ids[1] == "<livescreen-digest-sweep-12-sub-3@lab.example.org>"
    assert ids[2] != ids[0]
