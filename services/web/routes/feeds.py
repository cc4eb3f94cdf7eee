"""The private Atom feed of a review's alerts: ``/reviews/{slug}/feed.atom?token=...``.

The token in the URL is the credential (feed readers cannot sign in); only its hash is
stored, unsubscribing revokes it, and a wrong token gets the same 404 as a wrong review.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlmodel import Session, col, select

from services.alerts.deliver import payload_of
from services.alerts.events import wants
from services.alerts.feed import build_feed
from services.alerts.payload import link_base
from services.alerts.subscriptions import feed_subscription
from services.db.alerts import Alert
from services.db.models import Record, Review, utcnow
from services.runtime import Runtime
from services.web.deps import get_runtime, get_session

router = APIRouter(include_in_schema=False)
FEED_ENTRIES = 100


@router.get("/reviews/{slug}/feed.atom")
def review_feed(
    slug: str,
    request: Request,
    token: str = Query(default="", max_length=200),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    review = session.exec(select(Review).where(Review.slug == slug)).first()
    subscription = feed_subscription(session=session, token=token)
    if review is None or subscription is None or subscription.review_id != review.id:
        raise HTTPException(404, "no such feed (the token may have been revoked)")
    rows = session.exec(
        select(Alert, Record)
        .join(Record, col(Record.id) == col(Alert.record_id))
        .where(Alert.review_id == review.id)
        .order_by(col(Alert.created_at).desc(), col(Alert.id).desc())
        .limit(FEED_ENTRIES)
    ).all()
    base = link_base(runtime.settings)
    alerts = [payload_of(a, r, review, base) for a, r in rows if wants(subscription, a)]
    body = build_feed(
        alerts,
        review_slug=review.slug,
        review_title=review.title,
        review_url=f"{base}/reviews/{review.slug}",
        self_url=f"{base}/reviews/{review.slug}/feed.atom",
        now=utcnow(),
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")
