"""Alert settings: private delivery off by default; a validated SMTP URL that hides its password."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.alerts.smtp_url import SmtpConfig, parse_smtp_url
from services.settings import Settings


def test_private_webhook_addresses_are_refused_by_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LIVESCREEN_ALERTS_ALLOW_PRIVATE", raising=False)
    assert Settings().alerts_allow_private is False
    monkeypatch.setenv("LIVESCREEN_ALERTS_ALLOW_PRIVATE", "1")
    assert Settings().alerts_allow_private is True


def test_smtp_url_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "LIVESCREEN_SMTP_URL", "smtp://alerts%40lab:p%3Ass@mail.example.org:587?starttls=1"
    )
    settings = Settings()
    assert "p:ss" not in repr(settings)
    config = parse_smtp_url(settings.smtp_url.get_secret_value())
    assert config == SmtpConfig(
        "mail.example.org", 587, starttls=True, username="alerts@lab", password="p:ss"
    )
    assert "p:ss" not in repr(config)
    assert config.display == "smtp://alerts@lab@mail.example.org:587"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpConfig("mail.example.org", 25)),
        (
            "smtps://u:p@mail.example.org",
            SmtpConfig("mail.example.org", 465, True, False, "u", "p"),
        ),
        ("smtp://127.0.0.1:2525?starttls=0", SmtpConfig("127.0.0.1", 2525)),
    ],
)
def test_smtp_url_defaults(url: str, expected: SmtpConfig):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.org", "must start with smtp:// or smtps://, not http://"),
        ("smtp://", "has no host"),
        ("smtp://mail.example.org:587?starttls=maybe", "starttls must be 1 or 0, got 'maybe'"),
        ("smtp://mail.example.org?tls=1", "unknown option 'tls'"),
        ("smtps://u:secretpw@mail.example.org?starttls=1", "does not apply to smtps://"),
        ("smtp://:secretpw@mail.example.org", "has a password but no user name"),
        ("smtp://mail.example.org/inbox", "must not have a path"),
        ("smtp://u:secretpw@mail.example.org:70000", "is malformed"),
    ],
)
def test_a_bad_smtp_url_is_refused_at_startup_without_echoing_it(url: str, message: str):
    with pytest.raises(ValidationError) as refused:
        Settings(smtp_url=url)  # type: ignore[arg-type]
    text = str(refused.value)
    assert "LIVESCREEN_SMTP_URL" in text
    assert message in text
    assert "secretpw" not in text
