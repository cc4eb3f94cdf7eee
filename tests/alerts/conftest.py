"""Alert fixtures: a payload factory, a webhook receiver and an aiosmtpd server, all local."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from classifiers.types import CriterionResult, Evidence
from services.alerts.payload import AlertPayload, record_url
from tests.alerts.receiver import Receiver, running_receiver
from tests.alerts.tls import make_certificate
from tests.conftest import unavailable

BASE_URL = "https://livescreen.example.org"
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
SECRET = "whsec-not-in-any-log-7f3a"

MakeAlert = Callable[..., AlertPayload]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def make_alert() -> MakeAlert:
    """Alerts for the flagship review; keyword arguments override record or payload fields."""
    counter = iter(range(1, 10_000))

    def make(
        *, p_include: float | None = 0.9, title: str | None = None, **overrides: Any
    ) -> AlertPayload:
        n = next(counter)
        record_id = overrides.pop("record_id", n)
        record = {
            "pmid": str(40_000_000 + n),
            "title": title or f"Psilocybin microdosing trial {n}",
            "abstract": "A randomised placebo-controlled trial of 0.5 mg psilocybin.",
            "journal": "J Psychopharmacol",
            "year": 2026,
            "doi": f"10.1000/test.{n}",
            "version": 1,
        }
        criteria = {
            "substance": CriterionResult(
                "met", 0.95, [Evidence("abstract", 40, 50, "psilocybin")], "named"
            ),
            "design": CriterionResult("met", 0.9, [Evidence("abstract", 2, 30, "randomised")]),
            "dose": CriterionResult("unclear", 0.5),
        }
        values: dict[str, Any] = {
            "alert_id": f"alert-{n}",
            "event": "machine_include",
            "review_slug": "psilocybin-microdosing",
            "record_id": record_id,
            "record": record,
            "record_url": record_url(BASE_URL, "psilocybin-microdosing", record_id),
            "decision": "include",
            "p_include": p_include,
            "criteria": criteria,
            "raised_at": NOW - timedelta(minutes=n),
        }
        values.update(overrides)
        return AlertPayload(**values)

    return make


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver(SECRET) as r:
        yield r


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and hooks.example.test (needs openssl)."""
    try:
        return make_certificate(tmp_path_factory.mktemp("tls"))
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable("openssl", str(exc))
        raise
