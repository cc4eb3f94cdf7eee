"""Team screening: a record counts as screened once it has its required decisions, each
reviewer's progress is shown, and dual screening reports Cohen's kappa (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from services.reviewing.status import cohens_kappa
from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]


def decide_next(client: httpx.Client, decision: str) -> None:
    rid = client.post("/api/v1/reviews/micro/next").json()["id"]
    r = client.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": decision})
    assert r.status_code in (200, 201), r.text


def test_dual_progress_counts_required_decisions_and_kappa(env: Env, client_for: Client) -> None:
    proto = f.protocol(screening="dual", blind=False)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 6)
        alice, bob = f.user(s, "alice"), f.user(s, "bob")
        s.commit()
    a, b = client_for(alice), client_for(bob)
    for decision in ("include", "exclude", "include", "exclude"):
        decide_next(a, decision)
    for decision in ("include", "exclude", "exclude", "exclude"):
        decide_next(b, decision)
    summary = a.get("/api/v1/reviews/micro").json()
    assert summary["counts"]["screened"] == 4  # three agreements and one conflict
    team = summary["team"]
    assert {r["reviewer"]: r["decided"] for r in team["reviewers"]} == {"alice": 4, "bob": 4}
    assert team["pairs"] == 4 and team["kappa"] == 0.5
    page = sign_in(client_for(), alice).get("/reviews/micro").text
    assert "0.50" in page and "alice" in page and 'id="count-screened">4<' in page


def test_kappa_is_for_resolvers_only_in_a_blind_review(env: Env, client_for: Client) -> None:
    proto = f.protocol(screening="dual", blind=True)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 2)
        alice, carol = f.user(s, "alice"), f.user(s, "carol", "resolver")
        s.commit()
    decide_next(client_for(alice), "include")
    assert client_for(alice).get("/api/v1/reviews/micro").json()["team"]["kappa_hidden"]
    assert not client_for(carol).get("/api/v1/reviews/micro").json()["team"]["kappa_hidden"]


def test_kappa_matches_the_textbook_figure() -> None:
    pairs = [("include", "include")] * 20 + [("include", "exclude")] * 5
    pairs += [("exclude", "include")] * 10 + [("exclude", "exclude")] * 15
    assert cohens_kappa(pairs) == 0.4  # po 0.7, pe 0.5
    assert cohens_kappa([("include", "include")]) is None
