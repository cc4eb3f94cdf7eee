"""The alert subscriptions page of a review (admins): what `livescreen alerts` and the API
offer, in the browser. A webhook secret or feed URL is shown once, right after subscribing."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from services.alerts.payload import link_base
from services.alerts.sample import send_sample
from services.alerts.subscriptions import (
    SubscriptionError,
    subscribe,
    subscriptions_of,
    unsubscribe,
)
from services.db.reviewing import User
from services.runtime import Runtime
from services.web.auth import check_csrf, page_user, require_role
from services.web.deps import ReviewContext, get_runtime, get_session
from services.web.inputs import RecordId
from services.web.routes.pages import page_review, see_other
from services.web.routes.subscriptions import review_subscription
from services.web.templating import render

router = APIRouter(include_in_schema=False)


def _admin(user: User = Depends(page_user)) -> User:
    require_role(user, "admin")
    return user


@router.get("/reviews/{slug}/alerts")
def alerts_page(
    request: Request,
    user: User = Depends(_admin),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    rows = subscriptions_of(session=session, review_id=ctx.id)
    shown = request.session.pop("shown_once", None)
    return render(
        request,
        "alerts.html",
        {"user": user, "review": ctx, "subscriptions": rows, "shown_once": shown},
    )


@router.post("/reviews/{slug}/alerts")
def add_subscription(
    request: Request,
    channel: str = Form(""),
    target: str = Form(""),
    threshold: float = Form(0.5),
    max_records: int = Form(50),
    send_empty: bool = Form(False),
    csrf_token: str = Form(""),
    user: User = Depends(_admin),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    check_csrf(request, csrf_token)
    try:
        made = subscribe(
            session=session, settings=runtime.settings, review_id=ctx.id, channel=channel,
            target=target.strip(), threshold=threshold, max_records=max_records,
            send_empty=send_empty,
        )  # fmt: skip
    except SubscriptionError as exc:
        request.session["flash"] = f"Not subscribed: {exc}"
        return see_other(f"/reviews/{ctx.slug}/alerts")
    session.commit()
    if made.secret:
        request.session["shown_once"] = f"Webhook secret (shown only now): {made.secret}"
    elif made.feed_token:
        url = f"{link_base(runtime.settings)}/reviews/{ctx.slug}/feed.atom?token={made.feed_token}"
        request.session["shown_once"] = f"Private feed URL (shown only now): {url}"
    request.session["flash"] = f"Subscription {made.subscription.id} added."
    return see_other(f"/reviews/{ctx.slug}/alerts")


@router.post("/reviews/{slug}/alerts/{subscription_id}/stop")
def stop_subscription(
    request: Request,
    subscription_id: RecordId,
    csrf_token: str = Form(""),
    user: User = Depends(_admin),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    check_csrf(request, csrf_token)
    row = review_subscription(session, ctx, subscription_id)
    assert row.id is not None
    unsubscribe(session=session, subscription_id=row.id)
    session.commit()
    request.session["flash"] = f"Subscription {row.id} stopped."
    return see_other(f"/reviews/{ctx.slug}/alerts")


@router.post("/reviews/{slug}/alerts/{subscription_id}/test")
def test_subscription(
    request: Request,
    subscription_id: RecordId,
    csrf_token: str = Form(""),
    user: User = Depends(_admin),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    check_csrf(request, csrf_token)
    row = review_subscription(session, ctx, subscription_id)
    outcome = send_sample(session=session, settings=runtime.settings, subscription=row)
    request.session["flash"] = f"Sample alert to subscription {row.id}: {outcome.status}" + (
        f" ({outcome.reason})" if outcome.status != "delivered" and outcome.reason else ""
    )
    return see_other(f"/reviews/{ctx.slug}/alerts")
