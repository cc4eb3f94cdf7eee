"""A "maybe" keeps a record for a second look (as in Rayyan): it leaves the reviewer's queue,
waits under the maybe filter, counts as not yet screened, shows in exports, and an include
or exclude later replaces it. It is no vote: no conflict, no kappa pair (SQLite, PostgreSQL).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable

import httpx
from sqlmodel import select

from services.db.models import Review
from services.reports.prisma import prisma_numbers
from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import csrf_of, sign_in

Client = Callable[..., httpx.Client]
API = "/api/v1/reviews/micro"


def decide(client: httpx.Client, rid: int, decision: str, **extra: object) -> httpx.Response:
    return client.post(f"{API}/records/{rid}/decisions", json={"decision": decision, **extra})


def claim(client: httpx.Client) -> int:
    r = client.post(f"{API}/next")
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def test_maybe_leaves_the_queue_and_waits_under_its_filter(env: Env, client_for: Client) -> None:
    proto = f.protocol(screening="single", blind=False)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 3)
        alice = f.user(s, "alice")
        s.commit()
    a = client_for(alice)
    first = claim(a)
    r = decide(a, first, "maybe", note="dose unclear, read the full text")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "maybe" and r.json()["decision"]["decision"] == "maybe"

    assert claim(a) != first  # gone from the queue
    counts = a.get(API).json()["counts"]
    assert counts["maybe"] == 1 and counts["screened"] == 0 and counts["remaining"] == 3
    assert a.get(API).json()["team"]["reviewers"] == []  # a maybe is not a decided record

    listed = a.get(f"{API}/records", params={"status": "maybe"}).json()
    assert [i["id"] for i in listed["items"]] == [first] and listed["items"][0]["status"] == "maybe"
    page = sign_in(client_for(), alice)
    html = page.get("/reviews/micro/records", params={"status": "maybe"}).text
    assert f"/reviews/micro/records/{first}" in html and 'class="status maybe"' in html
    assert 'id="count-maybe">1<' in page.get("/reviews/micro").text

    rows = [json.loads(line) for line in a.get(f"{API}/export").text.splitlines()]
    mine = next(row for row in rows if row["id"] == first)
    assert mine["status"] == "maybe" and mine["final_decision"] is None
    assert [d["decision"] for d in mine["decisions"]] == ["maybe"]
    assert mine["decisions"][0]["note"] == "dose unclear, read the full text"
    table = list(csv.DictReader(io.StringIO(a.get(f"{API}/export?format=csv").text)))
    assert any(row["status"] == "maybe" and "alice: maybe" in row["decisions"] for row in table)

    # the second look: an exclude replaces the maybe
    r = decide(a, first, "exclude", reasons=["low_dose"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "excluded"
    assert a.get(f"{API}/records", params={"status": "maybe"}).json()["total"] == 0
    counts = a.get(API).json()["counts"]
    assert counts["maybe"] == 0 and counts["screened"] == 1 and counts["excluded"] == 1
    history = a.get(f"{API}/records/{first}").json()["decisions"]
    assert [(d["decision"], d["current"], d["end_reason"]) for d in history] == [
        ("maybe", False, "replaced"),
        ("exclude", True, None),
    ]


def test_maybe_takes_no_reasons(env: Env, client_for: Client) -> None:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        f.records(s, f.review(s, proto), 1)
        alice = f.user(s, "alice")
        s.commit()
    a = client_for(alice)
    r = decide(a, claim(a), "maybe", reasons=["low_dose"])
    assert r.status_code == 422 and "only excludes take them" in r.json()["detail"]
    r = decide(a, claim(a), "perhaps")
    assert r.status_code == 422 and "maybe" in r.json()["detail"]


def test_maybe_is_no_vote_in_dual_blind_screening(env: Env, client_for: Client) -> None:
    proto = f.protocol(screening="dual", blind=True)
    env.add_protocol(proto)
    with env.session() as s:
        f.records(s, f.review(s, proto), 1)
        alice, bob = f.user(s, "alice"), f.user(s, "bob")
        carol = f.user(s, "carol", "resolver")
        s.commit()
    a, b, c = client_for(alice), client_for(bob), client_for(carol)
    rid = claim(a)
    assert decide(a, rid, "maybe").json()["status"] == "maybe"
    assert claim(b) == rid  # still needs bob's decision
    # bob includes: one vote of two, no conflict; bob may not learn of alice's maybe
    assert decide(b, rid, "include").json()["status"] == "in_progress"
    assert b.get(f"{API}/records/{rid}").json()["status"] == "in_progress"
    assert b.get(f"{API}/records", params={"status": "maybe"}).json()["total"] == 0
    assert a.get(f"{API}/records", params={"status": "maybe"}).json()["total"] == 1
    assert c.get(f"{API}/conflicts").json() == []
    team = c.get(API).json()["team"]
    assert team["pairs"] == 0 and {r["reviewer"] for r in team["reviewers"]} == {"bob"}
    assert c.get(API).json()["counts"]["screened"] == 0
    # alice's second look disagrees: now it is a conflict
    assert decide(a, rid, "exclude").json()["status"] == "in_progress"  # blind for her
    assert [r["id"] for r in c.get(f"{API}/conflicts").json()] == [rid]


def test_maybe_from_the_screening_page_and_decided_on_the_record_page(
    env: Env, client_for: Client
) -> None:
    proto = f.protocol(blind=False)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 2)
        alice = f.user(s, "alice")
        s.commit()
    page = sign_in(client_for(), alice)
    screen = page.get("/reviews/micro/screen").text
    assert 'id="btn-maybe"' in screen and "<kbd>m</kbd> maybe" in screen
    rid = int(re.search(r'data-record-id="(\d+)"', screen).group(1))  # type: ignore[union-attr]
    r = page.post(
        f"/reviews/micro/records/{rid}/decide",
        data={"decision": "maybe", "csrf_token": csrf_of(screen)},
    )
    assert r.status_code == 303 and r.headers["location"] == "/reviews/micro/screen"
    assert f'data-record-id="{rid}"' not in page.get("/reviews/micro/screen").text

    record_page = page.get(f"/reviews/micro/records/{rid}").text
    assert 'id="maybe-form"' in record_page and 'id="record-status">maybe<' in record_page
    back = f"/reviews/micro/records/{rid}"
    r = page.post(
        f"/reviews/micro/records/{rid}/decide",
        data={"decision": "include", "csrf_token": csrf_of(record_page), "next": back},
    )
    assert r.status_code == 303 and r.headers["location"] == back
    decided = page.get(back).text
    assert 'id="record-status">included<' in decided and 'id="maybe-form"' not in decided


def test_a_maybe_is_awaiting_screening_in_prisma_and_can_be_undone(
    env: Env, client_for: Client
) -> None:
    proto = f.protocol(blind=False)
    env.add_protocol(proto)
    with env.session() as s:
        f.records(s, f.review(s, proto), 2)
        alice = f.user(s, "alice")
        s.commit()
    a = client_for(alice)
    rid = claim(a)
    assert decide(a, rid, "maybe").status_code == 201
    with env.session() as s:
        review = s.exec(select(Review)).one()
        flow = prisma_numbers(session=s, review=review, required=1).flow
    assert flow.awaiting == 2 and flow.screened == 0
    undone = a.post(f"{API}/undo").json()["undone"]
    assert undone["decision"] == "maybe" and undone["end_reason"] == "undone"
    assert claim(a) == rid  # held again, to decide afresh
    assert a.get(API).json()["counts"]["maybe"] == 0


def test_a_hidden_suggestion_stays_hidden_after_a_maybe(env: Env, client_for: Client) -> None:
    proto = f.protocol(blind=False)
    proto.hide_suggestions = True  # against anchoring: shown only once the reviewer decided
    env.add_protocol(proto)
    with env.session() as s:
        f.records(s, f.review(s, proto), 1)
        alice = f.user(s, "alice")
        s.commit()
    a = client_for(alice)
    rid = claim(a)
    assert decide(a, rid, "maybe").status_code == 201
    page = sign_in(client_for(), alice)
    assert 'id="machine-hidden-note"' in page.get(f"/reviews/micro/records/{rid}").text
    assert decide(a, rid, "include").status_code == 201
    shown = page.get(f"/reviews/micro/records/{rid}").text
    assert 'id="machine-hidden-note"' not in shown and 'id="machine-decision"' in shown
