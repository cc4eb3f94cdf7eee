"""``livescreen alerts`` and the private Atom feed, end to end on a real database and server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from sqlmodel import select

from services.alerts.events import raise_record_alerts
from services.cli import main
from services.db.models import Review
from services.settings import get_settings
from tests.alerts.receiver import running_receiver
from tests.web import factories as f
from tests.web.conftest import Env

Client = Callable[..., httpx.Client]

PROTOCOL = """
slug = "micro"
title = "Review micro"
query = "psilocybin"
"""


@pytest.fixture
def cli(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    protocol = tmp_path / "micro.toml"
    protocol.write_text(PROTOCOL)
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", env.runtime.settings.database_url)
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(protocol))
    monkeypatch.setenv("LIVESCREEN_ALERTS_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("LIVESCREEN_PUBLIC_URL", "https://review.example.org")
    env.runtime.settings.public_url = "https://review.example.org"  # the server's settings
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def last_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.rstrip("\n").splitlines()[-1]


def test_subscribe_list_test_and_unsubscribe(cli: Env, capsys: pytest.CaptureFixture[str]) -> None:
    with running_receiver("cli-secret") as hook:
        assert main(["alerts", "subscribe", "--webhook", hook.url(), "--secret", "cli-secret"]) == 0
        sub_id = last_line(capsys)
        assert sub_id.isdigit()
        assert main(["alerts", "test", sub_id]) == 0
        assert "delivered" in capsys.readouterr().out
        assert len(hook.received) == 1 and hook.received[0].signature_ok
        assert b"livescreen test alert" in hook.received[0].body
    assert main(["alerts", "subscribe", "--webhook", "http://127.0.0.1:9/h"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("webhook secret (shown only this once): ") and out[-1].isdigit()
    assert main(["alerts", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{sub_id}\twebhook\t{hook.url()}" in listing and "cli-secret" not in listing
    assert main(["alerts", "unsubscribe", sub_id]) == 0
    assert main(["alerts", "list"]) == 0
    assert "stopped" in capsys.readouterr().out
    assert main(["alerts", "unsubscribe", "999"]) == 1
    assert "no subscription with id 999" in capsys.readouterr().err
    assert main(["alerts", "subscribe", "--email", "not-an-address"]) == 1
    assert "not an e-mail address" in capsys.readouterr().err


def test_a_private_webhook_is_refused_without_the_setting(
    cli: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVESCREEN_ALERTS_ALLOW_PRIVATE", "0")
    get_settings.cache_clear()
    assert main(["alerts", "subscribe", "--webhook", "http://169.254.169.254/latest"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "LIVESCREEN_ALERTS_ALLOW_PRIVATE" in err


def test_the_atom_feed_is_private_valid_and_revocable(
    cli: Env, client_for: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "subscribe", "--atom"]) == 0
    lines = capsys.readouterr().out.splitlines()
    sub_id = lines[0].split()[1].rstrip(";")
    url = lines[-1]
    assert url.startswith("https://review.example.org/reviews/micro/feed.atom?token=")
    token = url.split("token=")[1]
    with cli.session() as s:
        review = s.exec(select(Review)).one()
        record = f.record(s, review, "4242", title="Microdosed psilocybin RCT", p_include=0.95)
        s.commit()
        assert record.id is not None
        raise_record_alerts(
            session=s, review=review, record_ids=[record.id], is_included=lambda _: False
        )
        s.commit()
    web = client_for()
    feed = web.get("/reviews/micro/feed.atom", params={"token": token})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml"
    )
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo and parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == [
        "Machine screening: include: Microdosed psilocybin RCT"
    ]
    assert parsed.entries[0].link.startswith("https://review.example.org/reviews/micro/")
    assert web.get("/reviews/micro/feed.atom", params={"token": "guess"}).status_code == 404
    assert main(["alerts", "unsubscribe", sub_id]) == 0
    assert web.get("/reviews/micro/feed.atom", params={"token": token}).status_code == 404
