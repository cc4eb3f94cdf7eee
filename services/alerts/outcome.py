"""What one delivery attempt came to, and when to try again.

Every channel returns an :class:`Outcome` instead of raising, so one
unreachable receiver never sinks the rest of a batch and the later outbox can
store the state and reason as they are.  Retries follow exponential backoff
with jitter (so many deliveries failing together do not retry together) and
stop once the next attempt would fall more than :data:`GIVE_UP_AFTER` after the
first one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Status = Literal["delivered", "retry", "failed", "skipped"]

GIVE_UP_AFTER = timedelta(hours=24)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt.

    ``delivered``: the receiver accepted it.  ``retry``: a transient failure;
    try again at ``next_attempt_at``.  ``failed``: permanent (or retries are
    exhausted); ``reason`` says why.  ``skipped``: there was nothing to send
    (an empty digest with "send even when nothing is new" off).
    """

    status: Status
    reason: str = ""
    next_attempt_at: datetime | None = None

    @property
    def done(self) -> bool:
        """True when the delivery needs no further attempt."""
        return self.status != "retry"


@dataclass(frozen=True, slots=True)
class Attempt:
    """Which attempt this is: ``number`` counts from 1; ``first_at`` is when attempt 1 ran.

    The outbox stores both per delivery and passes them in with the clock's
    ``now``, so channels never read the time themselves.
    """

    number: int
    first_at: datetime
    now: datetime

    @classmethod
    def first(cls, now: datetime) -> Attempt:
        return cls(1, now, now)

    def retry(
        self, reason: str, *, rng: random.Random, not_before: timedelta | None = None
    ) -> Outcome:
        """A ``retry`` after this attempt, or ``failed`` once the retry window is spent."""
        return retry_or_give_up(
            reason,
            attempts=self.number,
            first_attempt_at=self.first_at,
            now=self.now,
            rng=rng,
            not_before=not_before,
        )


def backoff_delay(
    attempts: int,
    *,
    rng: random.Random,
    base: timedelta = BASE_DELAY,
    cap: timedelta = MAX_DELAY,
) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1 for the first).

    Doubles from ``base`` up to ``cap``, then "equal jitter": a random point
    in the upper half, so delays still grow but spread out.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    exponent = min(attempts - 1, 30)  # 2**30 * 30 s is far past any cap
    ceiling = min(cap, base * (2**exponent))
    return ceiling * (0.5 + rng.random() / 2)


def retry_or_give_up(
    reason: str,
    *,
    attempts: int,
    first_attempt_at: datetime,
    now: datetime,
    rng: random.Random,
    not_before: timedelta | None = None,
    give_up_after: timedelta = GIVE_UP_AFTER,
) -> Outcome:
    """A ``retry`` outcome with its next time, or ``failed`` once retries would exceed the window.

    ``not_before`` is a minimum wait the receiver asked for (HTTP Retry-After).
    """
    delay = backoff_delay(attempts, rng=rng)
    if not_before is not None and not_before > delay:
        delay = not_before
    next_at = now + delay
    if next_at - first_attempt_at > give_up_after:
        hours = give_up_after.total_seconds() / 3600
        return Outcome(
            "failed",
            f"gave up after {attempts} attempts over {hours:g} hours; last error: {reason}",
        )
    return Outcome("retry", reason, next_at)


@dataclass
class DeliveryReport:
    """What one pass did, by outcome."""

    delivered: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, count: int = 1) -> None:
        setattr(self, outcome.status, getattr(self, outcome.status) + count)
        if outcome.status in ("retry", "failed") and outcome.reason:
            self.errors.append(outcome.reason)
