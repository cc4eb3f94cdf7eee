"""What the reviewing functions refuse, each with the HTTP status that fits it."""

from __future__ import annotations


class QueueError(ValueError):
    """A request the queue refuses; the message says what is wrong and what to do."""

    status_code = 422


class NotClaimed(QueueError):
    """A decision on a record the caller holds no claim on: a state, not a malformed request."""

    status_code = 409


class InvalidDecision(QueueError):
    """A decision value or reason that the review does not know."""


class StateConflict(QueueError):
    """The record is in a state that forbids the request (already resolved, not a conflict)."""

    status_code = 409
