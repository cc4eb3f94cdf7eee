"""The alert payload the outbox will fill: validation with clear messages, ranking, links."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.alerts.payload import link_base, rank, record_url
from services.settings import Settings
from tests.alerts.conftest import MakeAlert


def test_record_links_point_at_the_record_page():
    assert (
        record_url("https://ls.example.org/", "psilocybin-microdosing", 12)
        == "https://ls.example.org/reviews/psilocybin-microdosing/records/12"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"event": "exclude"}, "unknown event 'exclude'; expected one of machine_include"),
        ({"raised_at": datetime(2026, 1, 1)}, "'raised_at' must be timezone-aware"),
        ({"p_include": 1.5}, "'p_include' must be in [0, 1], got 1.5"),
        ({"alert_id": ""}, "'alert_id' is empty"),
    ],
)
def test_invalid_payloads_are_refused_naming_the_field(
    make_alert: MakeAlert, overrides: dict[str, object], message: str
):
    with pytest.raises(ValueError) as refused:
        make_alert(**overrides)
    assert message in str(refused.value)


def test_ranking_puts_likely_includes_first_and_unknown_last(make_alert: MakeAlert):
    low, unknown, high, mid = (make_alert(p_include=p) for p in (0.2, None, 0.97, 0.6))
    assert rank([low, unknown, high, mid]) == [high, mid, low, unknown]


def test_verdict_line_lists_each_criterion(make_alert: MakeAlert):
    assert make_alert().verdict_line() == "substance: met; design: met; dose: unclear"
    assert make_alert(criteria={}).verdict_line() == "no criteria verdicts"


def test_links_use_the_configured_public_address_or_the_served_one():
    assert link_base(Settings(public_url="https://ls.example.org/")) == "https://ls.example.org"
    assert link_base(Settings(public_url="", host="0.0.0.0", port=9000)) == ("http://0.0.0.0:9000")
