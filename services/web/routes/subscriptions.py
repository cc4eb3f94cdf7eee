"""Alert subscriptions of a review in the API (admins only), as `livescreen alerts` offers them.

A webhook's secret and an Atom feed's token are shown once, in the response that
creates the subscription, and never again; listing shows each subscription's target,
options, state and how its deliveries stand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field
from sqlmodel import Session, col

from services.alerts.payload import link_base
from services.alerts.sample import send_sample
from services.alerts.subscriptions import (
    SubscriptionError,
    subscribe,
    subscriptions_of,
    unsubscribe,
)
from services.db.alerts import Delivery, Subscription
from services.runtime import Runtime
from services.web.auth import api_admin
from services.web.deps import ReviewContext, get_review, get_runtime, get_session
from services.web.routes.api import ERRORS

router = APIRouter(
    prefix="/api/v1/reviews/{slug}/subscriptions",
    tags=["alerts"],
    dependencies=[Depends(api_admin)],
    responses=ERRORS,
)
SubscriptionId = Path(ge=1, le=2**63 - 1)


class SubscriptionIn(BaseModel):
    channel: Literal["webhook", "email", "atom"]
    target: str = Field(
        default="", max_length=2000, description="the webhook URL or e-mail address"
    )
    secret: str = Field(
        default="", max_length=200, description="webhook signing secret (generated if empty)"
    )
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    max_records: int = Field(default=50, ge=1, le=10_000)
    send_empty: bool = False


class SubscriptionOut(BaseModel):
    id: int
    channel: str
    target: str
    threshold: float
    max_records: int
    send_empty: bool
    active: bool
    created_at: datetime
    deliveries: dict[str, int] = Field(default_factory=dict)


class Subscribed(BaseModel):
    subscription: SubscriptionOut
    secret: str | None = Field(default=None, description="shown only in this response")
    feed_url: str | None = Field(default=None, description="shown only in this response")


class TestOutcome(BaseModel):
    status: str
    reason: str


def _out(row: Subscription, deliveries: dict[str, int] | None = None) -> SubscriptionOut:
    return SubscriptionOut.model_validate(
        {**row.model_dump(exclude={"secret", "token_hash"}), "deliveries": deliveries or {}}
    )


def _delivery_counts(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    rows = session.execute(
        sa.select(col(Delivery.subscription_id), col(Delivery.state), sa.func.count())
        .where(col(Delivery.subscription_id).in_(ids))
        .group_by(col(Delivery.subscription_id), col(Delivery.state))
    )
    for subscription_id, state, n in rows:
        counts[subscription_id][state] = int(n)
    return counts


def review_subscription(session: Session, ctx: ReviewContext, subscription_id: int) -> Subscription:
    """The review's subscription, or 404 (another review's is no more visible than none)."""
    row = session.get(Subscription, subscription_id)
    if row is None or row.review_id != ctx.id:
        raise HTTPException(404, f"review {ctx.review.slug} has no subscription {subscription_id}")
    return row


@router.get("")
def list_subscriptions(
    ctx: ReviewContext = Depends(get_review), session: Session = Depends(get_session)
) -> list[SubscriptionOut]:
    """The review's subscriptions, stopped ones too, with their deliveries by state."""
    rows = subscriptions_of(session=session, review_id=ctx.id)
    counts = _delivery_counts(session, [r.id for r in rows if r.id is not None])
    return [_out(r, counts.get(r.id or 0)) for r in rows]


@router.post("", status_code=201)
def create_subscription(
    body: SubscriptionIn,
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Subscribed:
    """Subscribe a webhook, an e-mail address or a private Atom feed. Webhooks to loopback,
    private or metadata addresses are refused (422) unless the deployment allows them."""
    try:
        made = subscribe(
            session=session, settings=runtime.settings, review_id=ctx.id, **body.model_dump()
        )
    except SubscriptionError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    feed_url = None
    if made.feed_token:
        feed_url = (
            f"{link_base(runtime.settings)}/reviews/{ctx.review.slug}/feed.atom"
            f"?token={made.feed_token}"
        )
    return Subscribed(
        subscription=_out(made.subscription), secret=made.secret or None, feed_url=feed_url
    )


@router.delete("/{subscription_id}")
def stop_subscription(
    subscription_id: int = SubscriptionId,
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> SubscriptionOut:
    """Stop a subscription; it is kept, inactive, so its deliveries stay on record."""
    row = review_subscription(session, ctx, subscription_id)
    assert row.id is not None
    unsubscribe(session=session, subscription_id=row.id)
    session.commit()
    return _out(row)


@router.post("/{subscription_id}/test")
def test_subscription(
    subscription_id: int = SubscriptionId,
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> TestOutcome:
    """Send a signed sample alert now; the answer says whether the receiver took it."""
    row = review_subscription(session, ctx, subscription_id)
    outcome: Any = send_sample(session=session, settings=runtime.settings, subscription=row)
    return TestOutcome(status=outcome.status, reason=outcome.reason or "")
