"""Tables of the alert outbox: who wants to hear, what happened, and each delivery of it.

The outbox pattern: an :class:`Alert` row is written in the same transaction as
the change that causes it (a screening, a human decision, a retraction), and a
:class:`Delivery` row per subscribed channel with it. Both have natural keys
unique in the database (one alert per event of a record version, one delivery
per alert per subscription), so however often a step is retried or redelivered,
each event reaches each channel once. Deliveries carry their own state,
attempts and last error, so failures are visible.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.db.models import cascading_key, timestamp

CHANNELS = ("webhook", "email", "atom")
DELIVERY_STATES = ("pending", "sending", "delivered", "failed")


class Subscription(SQLModel, table=True):
    """A channel that hears about one review's alerts.

    ``secret`` signs webhook bodies; for an Atom feed ``token_hash`` is the SHA-256 of the
    token in the feed's URL (the token itself is shown once). ``threshold`` is the
    ``p_include`` from which an ``uncertain`` machine verdict alerts too.
    """

    __tablename__ = "subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    channel: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    target: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    secret: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    token_hash: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(64), nullable=True, unique=True)
    )
    threshold: float = Field(default=0.5)
    max_records: int = Field(default=50)
    send_empty: bool = Field(default=False)
    active: bool = Field(default=True)
    created_at: datetime = timestamp()


class Alert(SQLModel, table=True):
    """One event about one record: ``key`` makes it once per event and record version."""

    __tablename__ = "alerts"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "key", name="uq_alert_key"),
        sa.Index("ix_alerts_review_created", "review_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    record_id: int = cascading_key("records")
    event: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    decision: str = Field(default="", sa_column=sa.Column(sa.String(20), nullable=False))
    p_include: float | None = Field(default=None)
    criteria: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    sweep_id: int | None = Field(default=None)
    created_at: datetime = timestamp()


class Delivery(SQLModel, table=True):
    """One alert to one subscription; ``pending`` until delivered or given up (``failed``).

    ``sending`` with ``lease_until`` marks a delivery a worker is on; a worker that dies
    leaves a lease that lapses, and the delivery is taken up again.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("alert_id", "subscription_id", name="uq_delivery"),
        sa.Index("ix_deliveries_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = cascading_key("alerts")
    subscription_id: int = cascading_key("subscriptions")
    state: str = Field(default="pending", sa_column=sa.Column(sa.String(10), nullable=False))
    attempts: int = Field(default=0)
    first_attempt_at: datetime | None = timestamp(nullable=True)
    next_attempt_at: datetime = timestamp()
    lease_until: datetime | None = timestamp(nullable=True)
    last_error: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    delivered_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()


class EmptyDigest(SQLModel, table=True):
    """The "nothing new" digest of one sweep to one e-mail subscription that asks for them.

    A sweep with no alerts writes no deliveries, so a subscription's "send even when
    nothing is new" needs a row of its own: unique per (subscription, sweep), with the
    same state, lease and attempts as a :class:`Delivery`, so it is sent once, retried
    while the SMTP server is away, and visible when it fails.
    """

    __tablename__ = "empty_digests"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "sweep_id", name="uq_empty_digest"),
        sa.Index("ix_empty_digests_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = cascading_key("subscriptions")
    sweep_id: int = cascading_key("sweeps")
    state: str = Field(default="pending", sa_column=sa.Column(sa.String(10), nullable=False))
    attempts: int = Field(default=0)
    first_attempt_at: datetime | None = timestamp(nullable=True)
    next_attempt_at: datetime = timestamp()
    lease_until: datetime | None = timestamp(nullable=True)
    last_error: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    delivered_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()
