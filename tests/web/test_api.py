"""The JSON API on SQLite and PostgreSQL: queue order, claims, decisions, conflicts, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import sqlalchemy as sa

from services.db.models import utcnow
from services.db.reviewing import Claim, Decision
from tests.web import factories as f
from tests.web.conftest import Env

Client = Callable[..., httpx.Client]


def setup_review(env: Env, *, n: int = 5, screening: str = "single", blind: bool = True) -> dict:
    proto = f.protocol(screening=screening, blind=blind)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        recs = f.records(s, rev, n)
        tokens = {
            "alice": f.user(s, "alice"),
            "bob": f.user(s, "bob"),
            "carol": f.user(s, "carol", "resolver"),
            "root": f.user(s, "root", "admin"),
        }
        s.commit()
        return {"ids": [r.id for r in recs], "pmids": [r.pmid for r in recs], **tokens}


def test_queue_order_claims_and_204_when_done(env: Env, client_for: Client) -> None:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.record(s, rev, "10", age_days=1)  # unscreened, newer
        f.record(s, rev, "11", age_days=5)  # unscreened, older
        f.record(s, rev, "12", p_include=0.2)
        f.record(s, rev, "13", p_include=0.9)
        token = f.user(s, "alice")
        s.commit()
    api = client_for(token)
    seen = []
    while True:
        r = api.post("/api/v1/reviews/micro/next")
        if r.status_code == 204:
            break
        assert r.status_code == 200, r.text
        body = r.json()
        assert {"id", "pmid", "title", "abstract", "machine", "claim"} <= set(body)
        # asking again without deciding returns the same held record
        assert api.post("/api/v1/reviews/micro/next").json()["id"] == body["id"]
        seen.append(body["pmid"])
        d = api.post(
            f"/api/v1/reviews/micro/records/{body['id']}/decisions", json={"decision": "include"}
        )
        assert d.status_code == 201, d.text
    assert seen == ["13", "12", "10", "11"]
    assert api.post("/api/v1/reviews/micro/next").status_code == 204


def test_next_carries_machine_verdicts(env: Env, client_for: Client) -> None:
    proto = f.protocol()
    env.add_protocol(proto)
    crit = {
        "psilocybin": {
            "verdict": "yes",
            "confidence": 0.9,
            "evidence": [{"field": "abstract", "start": 4, "end": 14, "text": "psilocybin"}],
        }
    }
    with env.session() as s:
        rev = f.review(s, proto)
        f.record(s, rev, "1", abstract="Low psilocybin dose", p_include=0.8, criteria=crit)
        token = f.user(s, "alice")
        s.commit()
    body = client_for(token).post("/api/v1/reviews/micro/next").json()
    assert body["machine"]["decision"] == "include"
    assert body["machine"]["p_include"] == 0.8
    assert body["machine"]["criteria"]["psilocybin"]["evidence"][0]["text"] == "psilocybin"
    assert body["publication_types"] == ["Journal Article"]


def test_second_decision_replaces_first_and_both_stay(env: Env, client_for: Client) -> None:
    w = setup_review(env)
    api = client_for(w["alice"])
    rid = api.post("/api/v1/reviews/micro/next").json()["id"]
    url = f"/api/v1/reviews/micro/records/{rid}/decisions"
    assert api.post(url, json={"decision": "include"}).status_code == 201
    r = api.post(url, json={"decision": "exclude", "reasons": ["low_dose"], "note": "high dose"})
    assert r.status_code == 201 and r.json()["status"] == "excluded"
    history = api.get(f"/api/v1/reviews/micro/records/{rid}").json()["decisions"]
    assert [(d["decision"], d["current"]) for d in history] == [
        ("include", False),
        ("exclude", True),
    ]
    assert history[0]["end_reason"] == "replaced"
    assert history[1]["reasons"] == ["low_dose"] and history[1]["note"] == "high dose"


def test_bad_decisions_are_422_and_write_nothing(env: Env, client_for: Client) -> None:
    w = setup_review(env)
    api = client_for(w["alice"])
    claimed = api.post("/api/v1/reviews/micro/next").json()["id"]
    other = next(i for i in w["ids"] if i != claimed)
    base = "/api/v1/reviews/micro/records"
    r = api.post(f"{base}/{other}/decisions", json={"decision": "include"})
    assert r.status_code == 409 and "not claimed by you" in r.json()["detail"]
    r = api.post(f"{base}/{claimed}/decisions", json={"decision": "perhaps"})
    assert r.status_code == 422 and "decision" in r.json()["detail"]
    assert "include" in r.json()["detail"]
    r = api.post(f"{base}/{claimed}/decisions", json={"decision": "exclude", "reasons": ["vibes"]})
    assert r.status_code == 422 and "'vibes'" in r.json()["detail"]
    assert "low_dose" in r.json()["detail"]
    r = api.post(
        f"{base}/{claimed}/decisions", json={"decision": "include", "reasons": ["low_dose"]}
    )
    assert r.status_code == 422
    r = api.post(
        f"{base}/{claimed}/decisions",
        content=b"not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    with env.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Decision)).scalar_one() == 0
        claim = s.execute(sa.select(Claim)).scalar_one()
        assert claim.status == "active"


def test_unknown_review_or_record_is_404(env: Env, client_for: Client) -> None:
    w = setup_review(env)
    api = client_for(w["alice"])
    assert api.get("/api/v1/reviews/nope").status_code == 404
    assert api.post("/api/v1/reviews/nope/next").status_code == 404
    r = api.get("/api/v1/reviews/micro/records/999999")
    assert r.status_code == 404 and "999999" in r.json()["detail"]
    r = api.post("/api/v1/reviews/micro/records/999999/decisions", json={"decision": "include"})
    assert r.status_code == 404


def test_dual_blind_conflict_and_resolution(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=1, screening="dual", blind=True)
    alice, bob = client_for(w["alice"]), client_for(w["bob"])
    carol, root = client_for(w["carol"]), client_for(w["root"])
    rid = w["ids"][0]
    assert alice.post("/api/v1/reviews/micro/next").json()["id"] == rid
    assert bob.post("/api/v1/reviews/micro/next").json()["id"] == rid  # dual: both get it
    assert root.post("/api/v1/reviews/micro/next").status_code == 204  # both slots taken
    alice.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": "include"})
    bob_view = bob.get(f"/api/v1/reviews/micro/records/{rid}").json()
    assert bob_view["decisions"] == []  # blind: bob cannot see alice's include
    r = bob.post(
        f"/api/v1/reviews/micro/records/{rid}/decisions",
        json={"decision": "exclude", "reasons": ["controlled"]},
    )
    assert r.json()["status"] == "in_progress"  # blind: the conflict is not revealed to bob
    assert (
        bob.get(f"/api/v1/reviews/micro/records/{rid}").json()["decisions"][0]["reviewer"] == "bob"
    )
    assert bob.get("/api/v1/reviews/micro/conflicts").status_code == 403
    conflicts = carol.get("/api/v1/reviews/micro/conflicts").json()
    assert [c["id"] for c in conflicts] == [rid]
    assert {d["reviewer"] for d in conflicts[0]["decisions"]} == {"alice", "bob"}
    summary = alice.get("/api/v1/reviews/micro").json()["counts"]
    assert summary["conflicts"] == 0 and summary["in_progress"] == 1  # blind for reviewers
    summary = carol.get("/api/v1/reviews/micro").json()["counts"]
    assert summary["conflicts"] == 1 and summary["screened"] == 0
    r = bob.post(f"/api/v1/reviews/micro/records/{rid}/resolution", json={"decision": "include"})
    assert r.status_code == 403
    r = carol.post(
        f"/api/v1/reviews/micro/records/{rid}/resolution",
        json={"decision": "include", "note": "dose is low"},
    )
    assert r.status_code == 201 and r.json()["status"] == "included"
    again = carol.post(
        f"/api/v1/reviews/micro/records/{rid}/resolution", json={"decision": "exclude"}
    )
    assert again.status_code == 409
    after = bob.get(f"/api/v1/reviews/micro/records/{rid}").json()
    assert {d["reviewer"] for d in after["decisions"]} == {"alice", "bob"}  # settled: visible
    assert after["resolution"]["resolver"] == "carol"
    summary = alice.get("/api/v1/reviews/micro").json()["counts"]
    assert (summary["included"], summary["conflicts"], summary["remaining"]) == (1, 0, 0)


def test_not_blind_shows_other_decisions(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=1, screening="dual", blind=False)
    alice, bob = client_for(w["alice"]), client_for(w["bob"])
    rid = alice.post("/api/v1/reviews/micro/next").json()["id"]
    bob.post("/api/v1/reviews/micro/next")
    alice.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": "include"})
    assert [
        d["reviewer"] for d in bob.get(f"/api/v1/reviews/micro/records/{rid}").json()["decisions"]
    ] == ["alice"]


def test_skip_sends_record_to_the_back(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=3)
    api = client_for(w["alice"])
    first = api.post("/api/v1/reviews/micro/next").json()["id"]
    assert api.post(f"/api/v1/reviews/micro/records/{first}/skip").status_code == 204
    order = []
    while (r := api.post("/api/v1/reviews/micro/next")).status_code == 200:
        rid = r.json()["id"]
        order.append(rid)
        api.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": "include"})
    assert order[-1] == first and len(order) == 3


def test_undo_returns_the_record(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=3)
    api = client_for(w["alice"])
    rid = api.post("/api/v1/reviews/micro/next").json()["id"]
    api.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": "include"})
    nxt = api.post("/api/v1/reviews/micro/next").json()["id"]
    assert nxt != rid
    undone = api.post("/api/v1/reviews/micro/undo").json()["undone"]
    assert undone["decision"] == "include" and undone["end_reason"] == "undone"
    assert api.post("/api/v1/reviews/micro/next").json()["id"] == rid
    assert api.get(f"/api/v1/reviews/micro/records/{rid}").json()["status"] == "pending"


def test_lapsed_lease_goes_to_someone_else(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=1)
    alice, bob = client_for(w["alice"]), client_for(w["bob"])
    rid = alice.post("/api/v1/reviews/micro/next").json()["id"]
    assert bob.post("/api/v1/reviews/micro/next").status_code == 204
    with env.session() as s:
        s.execute(sa.update(Claim).values(expires_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    assert bob.post("/api/v1/reviews/micro/next").json()["id"] == rid
    r = alice.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": "include"})
    assert r.status_code == 409  # not claimed (any more): a state conflict


def test_records_listing_search_and_paging(env: Env, client_for: Client) -> None:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 7)
        f.record(s, rev, "99", title="Microdosing psilocybin trial", doi="10.1/x")
        f.record(s, rev, "98", title="Another", doi="10.1/X")
        token = f.user(s, "alice")
        s.commit()
    api = client_for(token)
    page = api.get("/api/v1/reviews/micro/records", params={"per_page": 4, "page": 1}).json()
    assert page["total"] == 9 and len(page["items"]) == 4
    assert (
        api.get("/api/v1/reviews/micro/records", params={"q": "MICRODOSING"}).json()["total"] == 1
    )
    assert (
        api.get("/api/v1/reviews/micro/records", params={"q": "99"}).json()["items"][0]["pmid"]
        == "99"
    )
    assert api.get("/api/v1/reviews/micro/records", params={"status": "bogus"}).status_code == 422
    assert (
        api.get("/api/v1/reviews/micro/records", params={"status": "pending"}).json()["total"] == 9
    )
    counts = api.get("/api/v1/reviews/micro").json()["counts"]
    assert counts["identified"] == 9 and counts["duplicates"] == 1
    assert counts["estimated_recall"] is not None


def test_exports(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=2)
    api = client_for(w["alice"])
    rid = api.post("/api/v1/reviews/micro/next").json()["id"]
    api.post(
        f"/api/v1/reviews/micro/records/{rid}/decisions",
        json={"decision": "exclude", "reasons": ["low_dose"]},
    )
    lines = [
        json.loads(x)
        for x in api.get("/api/v1/reviews/micro/export?format=jsonl").text.splitlines()
    ]
    by_id = {x["id"]: x for x in lines}
    assert by_id[rid]["decisions"][0]["decision"] == "exclude"
    assert by_id[rid]["final_decision"] == "exclude"
    rows = list(
        csv.DictReader(io.StringIO(api.get("/api/v1/reviews/micro/export?format=csv").text))
    )
    assert len(rows) == 2 and any("alice: exclude [low_dose]" in r["decisions"] for r in rows)
    ris = api.get("/api/v1/reviews/micro/export?format=ris")
    assert ris.text.count("ER  - ") == 2 and "N1  - alice: exclude (low_dose)" in ris.text
    assert api.get("/api/v1/reviews/micro/export?format=xml").status_code == 422


def test_reviews_listing_and_openapi(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=2)
    api = client_for(w["alice"])
    reviews = api.get("/api/v1/reviews").json()
    assert reviews[0]["slug"] == "micro" and reviews[0]["counts"]["remaining"] == 2
    spec = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/reviews/{slug}/next" in spec["paths"]
    assert api.get("/healthz").status_code == 200


def test_admin_user_api(env: Env, client_for: Client) -> None:
    w = setup_review(env, n=1)
    root = client_for(w["root"])
    r = root.post("/api/v1/users", json={"name": "dave", "role": "resolver"})
    assert r.status_code == 201
    dave = client_for(r.json()["token"])
    assert dave.get("/api/v1/reviews").status_code == 200
    assert root.post("/api/v1/users", json={"name": "dave"}).status_code == 409
    assert "dave" in [u["name"] for u in root.get("/api/v1/users").json()]
    assert "token_hash" not in root.get("/api/v1/users").json()[0]
    assert root.post("/api/v1/users/dave/disable").json()["active"] is False
    assert dave.get("/api/v1/reviews").status_code == 401
