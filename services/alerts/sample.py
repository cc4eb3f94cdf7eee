"""``livescreen alerts test``: a signed sample alert through a subscription's own channel.

The sample goes exactly the way real alerts go (the same SSRF check, signature, digest
layout), so a team can check its receiver before the first real trial appears.
"""

from __future__ import annotations

import random
import uuid

from sqlmodel import Session

from classifiers.types import CriterionResult
from services.alerts.email import DigestContext, DigestOptions, deliver_digest
from services.alerts.outcome import Attempt, Outcome
from services.alerts.payload import AlertPayload, link_base, record_url
from services.alerts.smtp_url import parse_smtp_url
from services.alerts.webhook import deliver_webhook
from services.db.alerts import Subscription
from services.db.models import Review, utcnow
from services.settings import Settings


def sample_payload(review: Review, base_url: str) -> AlertPayload:
    assert review.id is not None
    return AlertPayload(
        alert_id=f"test-{uuid.uuid4().hex[:12]}",
        event="machine_include",
        review_slug=review.slug,
        record_id=0,
        record={"pmid": "", "title": "livescreen test alert (not a real record)", "year": None},
        record_url=record_url(base_url, review.slug, 0),
        decision="include",
        p_include=1.0,
        criteria={"example": CriterionResult("met", 1.0, reason="a sample verdict")},
        raised_at=utcnow(),
        note="sent by 'livescreen alerts test'",
    )


def send_sample(*, session: Session, settings: Settings, subscription: Subscription) -> Outcome:
    """Send one sample now; the outcome says delivered, or what went wrong."""
    review = session.get(Review, subscription.review_id)
    assert review is not None
    base = link_base(settings)
    payload = sample_payload(review, base)
    now = utcnow()
    if subscription.channel == "webhook":
        return deliver_webhook(
            payload,
            url=subscription.target,
            secret=subscription.secret,
            delivery_id=payload.alert_id,
            attempt=Attempt.first(now),
            timeout=settings.alerts_timeout,
            allow_private=settings.alerts_allow_private,
            rng=random.Random(),
        )
    if subscription.channel == "email":
        smtp_url = settings.smtp_url.get_secret_value()
        if not smtp_url:
            return Outcome("failed", "no SMTP server configured (set LIVESCREEN_SMTP_URL)")
        return deliver_digest(
            [payload],
            ctx=DigestContext(
                review_slug=review.slug,
                review_title=review.title,
                sweep_label="test digest",
                review_url=f"{base}/reviews/{review.slug}",
                sender=settings.smtp_from,
                recipient=subscription.target,
                sent_at=now,
                delivery_id=payload.alert_id,
            ),
            options=DigestOptions(max_records=subscription.max_records, send_when_empty=True),
            config=parse_smtp_url(smtp_url),
            attempt=Attempt.first(now),
            timeout=settings.alerts_timeout,
            rng=random.Random(),
        )
    return Outcome("failed", "an Atom feed is read by its reader; there is nothing to send")
