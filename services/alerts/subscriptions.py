"""Subscriptions: who hears about a review's alerts, through which channel.

A webhook URL is checked when it is subscribed (and again at every send, since DNS
can change): only http(s), never to loopback, private, link-local or metadata
addresses unless ``LIVESCREEN_ALERTS_ALLOW_PRIVATE`` is on. A webhook's secret is
generated when none is given; an Atom feed gets a token for its URL of which only
the hash is kept. Both are shown once, when the subscription is made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.alerts.email import check_address
from services.alerts.ssrf import ResolutionError, UnsafeURLError, resolve_target
from services.db.alerts import CHANNELS, Subscription
from services.settings import Settings


class SubscriptionError(ValueError):
    """A subscription cannot be made or found; the message says why."""


@dataclass(frozen=True)
class Subscribed:
    """A new subscription and what is shown only now: the webhook secret or the feed token."""

    subscription: Subscription
    secret: str = ""
    feed_token: str = ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def subscribe(
    *,
    session: Session,
    settings: Settings,
    review_id: int,
    channel: str,
    target: str = "",
    secret: str = "",
    threshold: float = 0.5,
    max_records: int = 50,
    send_empty: bool = False,
) -> Subscribed:
    """Make a subscription after checking its target; SubscriptionError says what is wrong."""
    if channel not in CHANNELS:
        raise SubscriptionError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if not 0.0 <= threshold <= 1.0:
        raise SubscriptionError(f"threshold must be between 0 and 1, got {threshold}")
    if max_records < 1:
        raise SubscriptionError(f"max records per mail must be at least 1, got {max_records}")
    token = ""
    row = Subscription(
        review_id=review_id,
        channel=channel,
        threshold=threshold,
        max_records=max_records,
        send_empty=send_empty,
    )
    if channel == "webhook":
        try:
            resolve_target(target, allow_private=settings.alerts_allow_private)
        except (UnsafeURLError, ResolutionError) as exc:
            raise SubscriptionError(str(exc)) from None
        row.target = target
        row.secret = secret or secrets.token_urlsafe(32)
    elif channel == "email":
        try:
            row.target = check_address(target, "e-mail address")
        except ValueError as exc:
            raise SubscriptionError(str(exc)) from None
    else:
        token = secrets.token_urlsafe(24)
        row.token_hash = token_hash(token)
    session.add(row)
    session.flush()
    shown_secret = row.secret if channel == "webhook" and not secret else ""
    return Subscribed(row, secret=shown_secret, feed_token=token)


def subscriptions_of(*, session: Session, review_id: int | None = None) -> list[Subscription]:
    stmt = select(Subscription).order_by(col(Subscription.id))
    if review_id is not None:
        stmt = stmt.where(Subscription.review_id == review_id)
    return list(session.exec(stmt))


def find_subscription(*, session: Session, subscription_id: int) -> Subscription:
    row = session.get(Subscription, subscription_id)
    if row is None:
        raise SubscriptionError(f"no subscription with id {subscription_id}")
    return row


def unsubscribe(*, session: Session, subscription_id: int) -> Subscription:
    """Stop a subscription (kept, inactive, so its deliveries stay on record); for a feed the
    token stops working."""
    row = find_subscription(session=session, subscription_id=subscription_id)
    row.active = False
    session.add(row)
    session.flush()
    return row


def feed_subscription(*, session: Session, token: str) -> Subscription | None:
    """The active Atom subscription whose URL carries ``token``."""
    if not token:
        return None
    row = session.exec(
        select(Subscription).where(
            Subscription.token_hash == token_hash(token),
            Subscription.channel == "atom",
            col(Subscription.active).is_(True),
        )
    ).first()
    return row


def describe(row: Subscription) -> str:
    """One line for ``livescreen alerts list``; never the secret."""
    target = row.target or "(Atom feed)"
    state = "active" if row.active else "stopped"
    return f"{row.id}\t{row.channel}\t{target}\tthreshold {row.threshold:g}\t{state}"
