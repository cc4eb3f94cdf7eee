"""Webhook delivery against a real receiver on 127.0.0.1 that checks the signature itself."""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import timedelta
from pathlib import Path

import pytest

from services.alerts.outcome import Attempt, Outcome
from services.alerts.ssrf import ResolutionError
from services.alerts.webhook import deliver_webhook, encode_body, verify_signature
from tests.alerts.conftest import NOW, SECRET, MakeAlert, free_port
from tests.alerts.receiver import HANG, Receiver, running_receiver, status, trickling_receiver
from tests.alerts.tls import TLS_HOST, client_context, server_context


def send(url: str, **kwargs: object) -> Outcome:
    """Deliver ``payload=`` with test defaults; other keyword arguments override them."""
    values: dict[str, object] = {
        "url": url,
        "secret": SECRET,
        "delivery_id": "delivery-1",
        "attempt": Attempt.first(NOW),
        "timeout": 2.0,
        "allow_private": True,
        "rng": random.Random(7),
    }
    values.update(kwargs)
    payload = values.pop("payload")
    return deliver_webhook(payload, **values)  # type: ignore[arg-type]


def test_delivers_a_signed_json_post_with_the_alert(receiver: Receiver, make_alert: MakeAlert):
    alert = make_alert(p_include=0.93)

    outcome = send(receiver.url(), payload=alert, delivery_id="d-42")

    assert outcome.status == "delivered", outcome.reason
    [request] = receiver.received
    assert request.signature_ok
    assert request.path == "/hook?token=url-token-xyz"
    assert request.headers["X-Livescreen-Delivery"] == "d-42"
    assert request.headers["X-Livescreen-Event"] == "machine_include"
    assert request.headers["Content-Type"].startswith("application/json")
    body = json.loads(request.body)
    assert body["event"] == "machine_include"
    assert body["decision"] == "include"
    assert body["p_include"] == 0.93
    assert body["record"]["pmid"] == alert.pmid
    assert body["record"]["title"] == alert.title
    assert body["record_url"].endswith(f"/reviews/psilocybin-microdosing/records/{alert.record_id}")
    assert body["criteria"]["substance"]["verdict"] == "met"
    assert body["criteria"]["substance"]["evidence"][0]["text"] == "psilocybin"
    assert body["criteria"]["dose"]["verdict"] == "unclear"


def test_signature_helper_matches_what_is_sent(receiver: Receiver, make_alert: MakeAlert):
    alert = make_alert()
    send(receiver.url(), payload=alert)
    [request] = receiver.received
    assert request.body == encode_body(alert)
    assert verify_signature(request.body, SECRET, request.headers["X-Livescreen-Signature"])
    assert not verify_signature(
        request.body, "another secret", request.headers["X-Livescreen-Signature"]
    )
    assert not verify_signature(
        request.body + b" ", SECRET, request.headers["X-Livescreen-Signature"]
    )


def test_500_then_200_is_retried_later_and_delivered_once_with_the_same_key(
    receiver: Receiver, make_alert: MakeAlert
):
    receiver.answer(status(500), status(200))
    alert = make_alert()

    first = send(receiver.url(), payload=alert, delivery_id="d-7")
    assert first.status == "retry"
    assert "HTTP 500" in first.reason
    assert first.next_attempt_at is not None
    assert NOW + timedelta(seconds=15) <= first.next_attempt_at <= NOW + timedelta(seconds=30)

    second = send(
        receiver.url(),
        payload=alert,
        delivery_id="d-7",
        attempt=Attempt(2, NOW, first.next_attempt_at),
    )
    assert second.status == "delivered"
    keys = [r.headers["X-Livescreen-Delivery"] for r in receiver.received]
    assert keys == ["d-7", "d-7"]
    assert receiver.received[0].body == receiver.received[1].body


def test_a_hanging_receiver_times_out_and_is_retried_later(
    receiver: Receiver, make_alert: MakeAlert
):
    receiver.answer(HANG)
    started = time.monotonic()

    outcome = send(receiver.url(), payload=make_alert(), timeout=0.5)

    assert time.monotonic() - started < 3
    assert outcome.status == "retry"
    assert "did not answer within 0.5 s" in outcome.reason


def test_a_redirect_is_not_followed_even_to_a_local_receiver(make_alert: MakeAlert):
    with running_receiver(SECRET) as first, running_receiver(SECRET) as target:
        first.answer(status(302, Location=target.url("/elsewhere")))

        outcome = send(first.url(), payload=make_alert())

        assert outcome.status == "failed"
        assert "HTTP 302" in outcome.reason and "do not follow redirects" in outcome.reason
        assert target.received == []


def test_a_redirect_to_the_metadata_address_is_refused(receiver: Receiver, make_alert: MakeAlert):
    receiver.answer(status(307, Location="http://169.254.169.254/latest/meta-data/"))

    outcome = send(receiver.url(), payload=make_alert())

    assert outcome.status == "failed"
    assert "redirecting to http://169.254.169.254" in outcome.reason


def test_loopback_receiver_is_refused_unless_private_addresses_are_allowed(
    receiver: Receiver, make_alert: MakeAlert
):
    outcome = send(receiver.url(), payload=make_alert(), allow_private=False)

    assert outcome.status == "failed"
    assert "127.0.0.1 is a loopback address" in outcome.reason
    assert "LIVESCREEN_ALERTS_ALLOW_PRIVATE" in outcome.reason
    assert receiver.received == []


def test_connects_to_the_address_that_was_checked_with_the_url_host(
    receiver: Receiver, make_alert: MakeAlert
):
    """DNS rebinding: the resolver is asked once and the socket goes to that answer."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    url = f"http://hooks.example.test:{receiver.port}/hook"
    outcome = send(url, payload=make_alert(), resolver=resolver)

    assert outcome.status == "delivered", outcome.reason
    assert asked == ["hooks.example.test"]
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"


def test_a_host_resolving_to_a_private_address_is_refused_at_send_time(make_alert: MakeAlert):
    outcome = send(
        "https://hooks.example.test/hook",
        payload=make_alert(),
        allow_private=False,
        resolver=lambda host, port: ["10.0.0.5"],
    )
    assert outcome.status == "failed"
    assert "10.0.0.5 is a private address" in outcome.reason
    assert "'hooks.example.test' resolves to it" in outcome.reason


def test_other_client_errors_fail_at_once(receiver: Receiver, make_alert: MakeAlert):
    receiver.answer(status(410))
    outcome = send(receiver.url(), payload=make_alert())
    assert outcome.status == "failed"
    assert "HTTP 410" in outcome.reason and "answer 410" in outcome.reason


def test_429_waits_at_least_what_retry_after_asks(receiver: Receiver, make_alert: MakeAlert):
    receiver.answer(status(429, Retry_After="600"))
    outcome = send(receiver.url(), payload=make_alert())
    assert outcome.status == "retry"
    assert outcome.next_attempt_at == NOW + timedelta(seconds=600)


def test_a_wrong_secret_is_rejected_by_the_receiver(receiver: Receiver, make_alert: MakeAlert):
    outcome = send(receiver.url(), payload=make_alert(), secret="not the secret")
    assert outcome.status == "failed"
    assert "HTTP 401" in outcome.reason
    assert receiver.received[0].signature_ok is False


def test_nothing_listening_is_retried_later(make_alert: MakeAlert):
    outcome = send(f"http://127.0.0.1:{free_port()}/hook", payload=make_alert())
    assert outcome.status == "retry"
    assert "cannot deliver to http://127.0.0.1" in outcome.reason


def test_retries_stop_after_24_hours(receiver: Receiver, make_alert: MakeAlert):
    receiver.answer(status(503))
    late = Attempt(12, NOW - timedelta(hours=23, minutes=59), NOW)
    outcome = send(receiver.url(), payload=make_alert(), attempt=late)
    assert outcome.status == "failed"
    assert "gave up after 12 attempts over 24 hours" in outcome.reason
    assert "HTTP 503" in outcome.reason


def test_the_secret_and_url_token_are_never_logged(
    receiver: Receiver, make_alert: MakeAlert, caplog: pytest.LogCaptureFixture
):
    receiver.answer(status(500), HANG)
    caplog.set_level(logging.DEBUG)
    outcomes = [
        send(receiver.url(), payload=make_alert()),
        send(receiver.url(), payload=make_alert(), timeout=0.3),
        send(receiver.url(), payload=make_alert(), allow_private=False),
        send(receiver.url(), payload=make_alert()),
    ]
    text = caplog.text + " ".join(o.reason for o in outcomes)
    assert caplog.records, "deliveries should log their outcome"
    assert SECRET not in text
    assert "url-token-xyz" not in text


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(make_alert: MakeAlert):
    """Each byte arrives well within the socket timeout; the whole answer never does."""
    with trickling_receiver() as port:
        started = time.monotonic()
        outcome = send(f"http://127.0.0.1:{port}/hook", payload=make_alert(), timeout=0.6)
        elapsed = time.monotonic() - started
    assert outcome.status == "retry"
    assert "did not answer within 0.6 s" in outcome.reason
    assert elapsed < 2


def test_https_goes_to_the_checked_address_and_verifies_the_url_host(
    make_alert: MakeAlert, certificate: tuple[Path, Path]
):
    """The socket goes to the pinned IP while TLS checks the certificate for the URL's host."""
    with running_receiver(SECRET, tls=server_context(certificate)) as secure:
        url = f"https://{TLS_HOST}:{secure.port}/hook"
        pinned = send(
            url,
            payload=make_alert(),
            resolver=lambda host, port: ["127.0.0.1"],
            ssl_context=client_context(certificate),
        )
        untrusted = send(url, payload=make_alert(), resolver=lambda host, port: ["127.0.0.1"])

    assert pinned.status == "delivered", pinned.reason
    assert secure.received[0].headers["Host"] == f"{TLS_HOST}:{secure.port}"
    assert secure.received[0].signature_ok
    assert untrusted.status == "retry" and "CERTIFICATE_VERIFY_FAILED" in untrusted.reason
    assert len(secure.received) == 1


def test_a_name_that_does_not_resolve_is_retried_later(make_alert: MakeAlert):
    def no_answer(host: str, port: int) -> list[str]:
        raise ResolutionError(f"cannot resolve host {host!r}: Name or service not known")

    outcome = send("https://gone.example.test/hook", payload=make_alert(), resolver=no_answer)
    assert outcome.status == "retry"
    assert "cannot resolve host 'gone.example.test'" in outcome.reason


def test_a_payload_that_is_not_json_fails_alone(receiver: Receiver, make_alert: MakeAlert):
    broken = make_alert(record={"pmid": "1", "title": "t", "when": object()})
    outcome = send(receiver.url(), payload=broken)
    assert outcome.status == "failed"
    assert f"alert {broken.alert_id} cannot be sent as JSON" in outcome.reason
    assert send(receiver.url(), payload=make_alert()).status == "delivered"
