"""Blind dual screening keeps its promise: no reviewer learns another's vote before the record
is settled, a disagreement is settled only by a resolver, and never by one who screened it.

Driven through the real API and pages on SQLite and PostgreSQL; every response the second
reviewer receives is checked for what it must not reveal.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_api import setup_review
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]
API = "/api/v1/reviews/micro"


def dual_blind(env: Env) -> dict[str, Any]:
    """One record, reviewers alice and bob, resolver carol, admin root (a resolver too)."""
    return setup_review(env, n=1, screening="dual", blind=True)


def decide(client: httpx.Client, rid: int, decision: str) -> httpx.Response:
    body: dict[str, Any] = {"decision": decision, "note": f"{decision} because of the dose"}
    if decision == "exclude":
        body["reasons"] = ["low_dose"]
    return client.post(f"{API}/records/{rid}/decisions", json=body)


def assert_reveals_nothing(client: httpx.Client, rid: int, me: str) -> None:
    """Every view a blinded reviewer has of a review with one disputed record."""
    record = client.get(f"{API}/records/{rid}").json()
    assert record["status"] == "in_progress"
    assert {d["reviewer"] for d in record["decisions"]} <= {me}
    assert record["resolution"] is None
    assert "alice" not in json.dumps(record) or me == "alice"
    counts = client.get(API).json()["counts"]
    assert counts["conflicts"] == 0 and counts["in_progress"] == 1
    assert [r["counts"]["conflicts"] for r in client.get("/api/v1/reviews").json()] == [0]
    assert client.get(f"{API}/records", params={"status": "conflict"}).json()["total"] == 0
    listed = client.get(f"{API}/records", params={"status": "in_progress"}).json()
    assert [item["id"] for item in listed["items"]] == [rid]
    found = client.get(f"{API}/records", params={"q": "record"}).json()["items"]
    assert [item["status"] for item in found] == ["in_progress"]
    rows = [json.loads(line) for line in client.get(f"{API}/export").text.splitlines()]
    assert rows[0]["status"] == "in_progress"
    assert {d["reviewer"] for d in rows[0]["decisions"]} <= {me}
    table = list(csv.DictReader(io.StringIO(client.get(f"{API}/export?format=csv").text)))
    assert "conflict" not in json.dumps(table)


def test_the_second_reviewer_learns_nothing_and_cannot_settle_alone(
    env: Env, client_for: Client
) -> None:
    w = dual_blind(env)
    alice, bob, carol = client_for(w["alice"]), client_for(w["bob"]), client_for(w["carol"])
    rid = w["ids"][0]
    assert alice.post(f"{API}/next").json()["id"] == rid
    assert bob.post(f"{API}/next").json()["id"] == rid
    assert decide(alice, rid, "include").json()["status"] == "in_progress"

    r = decide(bob, rid, "exclude")
    assert r.status_code == 201 and r.json()["status"] == "in_progress"
    assert_reveals_nothing(bob, rid, "bob")
    assert_reveals_nothing(alice, rid, "alice")

    # bob changes his vote to match: still a conflict, still nothing revealed to him
    r = decide(bob, rid, "include")
    assert r.status_code == 201 and r.json()["status"] == "in_progress"
    assert_reveals_nothing(bob, rid, "bob")
    conflict = carol.get(f"{API}/conflicts").json()
    assert [c["id"] for c in conflict] == [rid]
    assert sorted(d["decision"] for d in conflict[0]["decisions"]) == ["include", "include"]
    history = carol.get(f"{API}/records/{rid}").json()["decisions"]
    assert [(d["reviewer"], d["decision"], d["current"]) for d in history] == [
        ("alice", "include", True),
        ("bob", "exclude", False),
        ("bob", "include", True),
    ]
    assert carol.get(API).json()["counts"]["conflicts"] == 1

    # only a resolution settles it; then bob may see the other vote
    r = carol.post(f"{API}/records/{rid}/resolution", json={"decision": "include"})
    assert r.status_code == 201 and r.json()["status"] == "included"
    after = bob.get(f"{API}/records/{rid}").json()
    assert after["status"] == "included"
    assert {d["reviewer"] for d in after["decisions"]} == {"alice", "bob"}


def test_a_resolver_who_screened_a_record_is_blind_to_it_and_cannot_resolve_it(
    env: Env, client_for: Client
) -> None:
    w = dual_blind(env)
    alice, carol, root = client_for(w["alice"]), client_for(w["carol"]), client_for(w["root"])
    rid = w["ids"][0]
    alice.post(f"{API}/next")
    decide(alice, rid, "include")

    # carol holds an undecided claim: she sees the record as a reviewer would
    assert carol.post(f"{API}/next").json()["id"] == rid
    held = carol.get(f"{API}/records/{rid}").json()
    assert held["decisions"] == [] and held["status"] == "in_progress"
    assert "include because" not in json.dumps(held)

    assert decide(carol, rid, "exclude").json()["status"] == "in_progress"
    assert carol.get(f"{API}/conflicts").json() == []
    assert carol.get(f"{API}/records", params={"status": "conflict"}).json()["total"] == 0
    mine = carol.get(f"{API}/records/{rid}").json()
    assert [d["reviewer"] for d in mine["decisions"]] == ["carol"]
    r = carol.post(f"{API}/records/{rid}/resolution", json={"decision": "exclude"})
    assert r.status_code == 409 and "yourself" in r.json()["detail"]
    page = sign_in(client_for(), w["carol"]).get("/reviews/micro/conflicts")
    assert page.status_code == 200 and 'id="no-conflicts"' in page.text

    # an admin (a resolver too) who screened nothing sees the conflict and settles it
    assert [c["id"] for c in root.get(f"{API}/conflicts").json()] == [rid]
    r = root.post(f"{API}/records/{rid}/resolution", json={"decision": "include"})
    assert r.status_code == 201


def test_not_blind_reviews_show_conflicts_to_reviewers(env: Env, client_for: Client) -> None:
    proto = f.protocol(screening="dual", blind=False)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        (rec,) = f.records(s, rev, 1)
        alice, bob = f.user(s, "alice"), f.user(s, "bob")
        s.commit()
    a, b = client_for(alice), client_for(bob)
    a.post(f"{API}/next")
    b.post(f"{API}/next")
    decide(a, rec.id, "include")  # type: ignore[arg-type]
    assert decide(b, rec.id, "exclude").json()["status"] == "conflict"  # type: ignore[arg-type]
    assert b.get(API).json()["counts"]["conflicts"] == 1
