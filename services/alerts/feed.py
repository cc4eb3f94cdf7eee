"""The Atom feed of a review's alerts, built with feedgen.

Entry ids are ``urn:uuid:`` names derived from the review and the alert id,
so a feed reader that polls again sees the same entries as the same entries
(and a rebuilt feed does not re-notify).  The later web route serves this at
``/reviews/{slug}/feed.atom?token=...``; ``self_url`` is that URL, which a
reader already has, so including it leaks nothing new.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from feedgen.feed import FeedGenerator

from services.alerts.payload import EVENT_TITLES, AlertPayload

NAMESPACE = uuid.UUID("6f1c7e2a-6b4e-4d0e-9a39-2f64f5d1a8b7")  # livescreen's own; never change
GENERATOR = "livescreen"


def feed_id(review_slug: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'review/{review_slug}')}"


def entry_id(review_slug: str, alert_id: str) -> str:
    """Stable across rebuilds, unique across reviews."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'review/{review_slug}/alert/{alert_id}')}"


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry.

    A stray control character in one record's title must not make the whole
    feed unbuildable (lxml refuses such strings).
    """
    return "".join(
        c
        for c in text
        if c in "\t\n\r"
        or ("\x20" <= c <= "\ud7ff")
        or ("\ue000" <= c <= "\ufffd")
        or c >= "\U00010000"
    )


def _summary(alert: AlertPayload) -> str:
    p = "n/a" if alert.p_include is None else f"{alert.p_include:.2f}"
    parts = [f"Decision {alert.decision}; p_include {p}.", alert.verdict_line() + "."]
    if alert.pmid:
        parts.insert(0, f"PMID {alert.pmid}.")
    if alert.note:
        parts.append(alert.note)
    return xml_safe(" ".join(parts))


def build_feed(
    alerts: Sequence[AlertPayload],
    *,
    review_slug: str,
    review_title: str,
    review_url: str,
    self_url: str,
    now: datetime,
) -> bytes:
    """The feed document (UTF-8 XML), newest alert first.

    ``now`` is the feed's ``updated`` only when there are no alerts; otherwise
    it is the newest alert's time, so an unchanged feed has an unchanged date.
    Raises ValueError naming the alert when one belongs to another review.
    """
    if now.tzinfo is None:
        raise ValueError("feed: 'now' must be timezone-aware")
    for alert in alerts:
        if alert.review_slug != review_slug:
            raise ValueError(
                f"feed for {review_slug!r}: alert {alert.alert_id} belongs to {alert.review_slug!r}"
            )
    ordered = sorted(alerts, key=lambda a: (a.raised_at, a.alert_id), reverse=True)

    fg = FeedGenerator()
    fg.id(feed_id(review_slug))
    fg.title(xml_safe(f"{review_title}: livescreen alerts"))
    fg.author({"name": GENERATOR})
    fg.link(href=review_url, rel="alternate", type="text/html")
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.generator(GENERATOR)
    fg.updated(ordered[0].raised_at if ordered else now)
    for alert in ordered:
        fe = fg.add_entry(order="append")
        fe.id(entry_id(review_slug, alert.alert_id))
        fe.title(xml_safe(f"{EVENT_TITLES[alert.event]}: {alert.title}"))
        fe.link(href=alert.record_url, rel="alternate", type="text/html")
        fe.updated(alert.raised_at)
        fe.published(alert.raised_at)
        fe.category(term=alert.event, label=EVENT_TITLES[alert.event])
        fe.summary(_summary(alert))
    return bytes(fg.atom_str(pretty=True))
