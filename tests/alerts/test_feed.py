"""The Atom feed: valid Atom (parsed with lxml and with feedparser, as a reader would)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import feedparser
import pytest
from lxml import etree

from services.alerts.feed import build_feed, entry_id
from services.alerts.payload import AlertPayload
from tests.alerts.conftest import NOW, MakeAlert

ATOM = "{http://www.w3.org/2005/Atom}"
REVIEW_URL = "https://livescreen.example.org/reviews/psilocybin-microdosing"
SELF_URL = REVIEW_URL + "/feed.atom?token=tok-123"


def feed(alerts: Sequence[AlertPayload], **kwargs: object) -> bytes:
    values: dict[str, object] = {
        "review_slug": "psilocybin-microdosing",
        "review_title": "Psilocybin microdosing",
        "review_url": REVIEW_URL,
        "self_url": SELF_URL,
        "now": NOW,
    }
    values.update(kwargs)
    return build_feed(alerts, **values)  # type: ignore[arg-type]


def test_a_valid_atom_feed_with_one_entry_per_alert_newest_first(make_alert: MakeAlert):
    old = make_alert(raised_at=NOW - timedelta(days=2), title="Older trial")
    new = make_alert(raised_at=NOW - timedelta(hours=1), title="Newer <b>trial</b> & more")
    retraction = make_alert(
        raised_at=NOW - timedelta(days=1), event="retraction", note="RetractionIn PMID 999"
    )

    root = etree.fromstring(feed([old, new, retraction]))

    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
    assert root.findtext(f"{ATOM}title") == "Psilocybin microdosing: livescreen alerts"
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated", "")) == new.raised_at
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"alternate": REVIEW_URL, "self": SELF_URL}
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        entry_id("psilocybin-microdosing", a.alert_id) for a in (new, retraction, old)
    ]
    first = entries[0]
    assert first.findtext(f"{ATOM}title") == "Machine screening: include: Newer <b>trial</b> & more"
    assert first.find(f"{ATOM}link").get("href") == new.record_url  # type: ignore[union-attr]
    assert datetime.fromisoformat(first.findtext(f"{ATOM}updated", "")) == new.raised_at
    summary = first.findtext(f"{ATOM}summary", "")
    assert "p_include 0.90" in summary and "substance: met; design: met; dose: unclear" in summary
    assert "RetractionIn PMID 999" in entries[1].findtext(f"{ATOM}summary", "")
    assert entries[1].find(f"{ATOM}category").get("term") == "retraction"  # type: ignore[union-attr]


def test_a_feed_reader_accepts_it(make_alert: MakeAlert):
    alerts = [make_alert(), make_alert(event="human_include", p_include=None)]
    parsed = feedparser.parse(feed(alerts))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.link for e in parsed.entries] == [a.record_url for a in alerts]
    assert "p_include n/a" in parsed.entries[1].summary


def test_entry_ids_are_stable_across_rebuilds_and_distinct_across_reviews(
    make_alert: MakeAlert,
):
    alerts = [make_alert(), make_alert(), make_alert()]
    first = feedparser.parse(feed(alerts))
    again = feedparser.parse(feed(list(reversed(alerts)), now=NOW + timedelta(hours=5)))
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    assert first.feed.updated == again.feed.updated  # nothing new, nothing changed
    assert len({e.id for e in first.entries}) == 3
    assert entry_id("psilocybin-microdosing", "alert-1") != entry_id("other-review", "alert-1")


def test_an_empty_feed_is_still_valid_and_dated_now():
    parsed = feedparser.parse(feed([]))
    assert parsed.bozo == 0
    assert parsed.entries == []
    assert datetime.fromisoformat(parsed.feed.updated) == NOW


def test_an_alert_of_another_review_is_refused(make_alert: MakeAlert):
    stray = make_alert(review_slug="ketamine")
    with pytest.raises(ValueError, match=f"alert {stray.alert_id} belongs to 'ketamine'"):
        feed([stray])


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="'now' must be timezone-aware"):
        feed([], now=datetime(2026, 12, 2))


def test_a_control_character_in_one_title_does_not_break_the_feed(make_alert: MakeAlert):
    alerts = [make_alert(title="Vertical\x0btab and NUL\x00 in a title"), make_alert()]
    parsed = feedparser.parse(feed(alerts))
    assert parsed.bozo == 0
    assert parsed.entries[0].title.endswith("Verticaltab and NUL in a title")
    assert len(parsed.entries) == 2
