"""Retry timing: exponential backoff with jitter, giving up 24 hours after the first attempt."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.alerts.outcome import Attempt, backoff_delay
from tests.alerts.conftest import NOW


def test_delays_double_within_their_jitter_band_up_to_an_hour():
    rng = random.Random(1)
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (5, 480), (8, 3600), (40, 3600)]:
        delay = backoff_delay(attempts, rng=rng).total_seconds()
        assert ceiling / 2 <= delay <= ceiling, (attempts, delay)


def test_jitter_spreads_deliveries_that_failed_together():
    delays = {backoff_delay(4, rng=random.Random(seed)) for seed in range(20)}
    assert len(delays) == 20


def test_attempt_numbers_start_at_one():
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        backoff_delay(0, rng=random.Random(0))


def test_a_delivery_that_always_fails_is_retried_for_24_hours_then_failed():
    rng = random.Random(3)
    attempt = Attempt.first(NOW)
    times = [NOW]
    while True:
        outcome = attempt.retry("HTTP 503", rng=rng)
        if outcome.status != "retry":
            break
        assert outcome.next_attempt_at is not None
        times.append(outcome.next_attempt_at)
        attempt = Attempt(attempt.number + 1, NOW, outcome.next_attempt_at)
    assert outcome.status == "failed"
    assert outcome.done
    assert "gave up after" in outcome.reason and "HTTP 503" in outcome.reason
    assert times[-1] - NOW <= timedelta(hours=24)
    assert times[-1] - NOW > timedelta(hours=22)  # the hourly cap reaches close to the limit
    assert 25 <= len(times) <= 40  # ~8 quick retries, then about one an hour
