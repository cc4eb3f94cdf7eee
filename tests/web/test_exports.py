"""Exports say the same complete things in every format and from every door (API with a
token, the dashboard's link with the session cookie), and blind reviews stay blind."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import httpx
import rispy

from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import sign_in

Client = Callable[..., httpx.Client]
ABSTRACT = "UNLABELLED: A placebo-controlled trial of 1 mg psilocybin."
CRITERIA = {
    "psilocybin": {"verdict": "met", "confidence": 0.9, "reason": "psilocybin is studied"},
    "low_dose": {"verdict": "unclear", "confidence": 0.5, "reason": "lone 1 mg arm"},
}


def setup(env: Env, *, blind: bool) -> dict:
    proto = f.protocol(screening="dual", blind=blind)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(
            s,
            rev,
            "777",
            title="Microdosing trial",
            abstract=ABSTRACT,
            p_include=0.91,
            criteria=CRITERIA,
            mesh_terms=["Psilocybin", "Humans"],
            keywords=["microdosing"],
            volume="12",
            issue="3",
            pages="123-9",
            nct_ids=["NCT01234567"],
        )
        f.record(s, rev, "778", p_include=0.2)
        out = {"rid": rec.id, "alice": f.user(s, "alice"), "bob": f.user(s, "bob")}
        out["admin"] = f.user(s, "root", "admin")
        s.commit()
    return out


def decide(client: httpx.Client, decision: str, **extra: object) -> int:
    rid = client.post("/api/v1/reviews/micro/next").json()["id"]
    r = client.post(
        f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": decision, **extra}
    )
    assert r.status_code in (200, 201), r.text
    return rid


def test_every_format_parses_back_with_every_field(env: Env, client_for: Client) -> None:
    w = setup(env, blind=False)
    alice, bob = client_for(w["alice"]), client_for(w["bob"])
    decide(alice, "include", note="low dose")
    decide(bob, "include")
    api = client_for(w["admin"])

    rows = [
        json.loads(x)
        for x in api.get("/api/v1/reviews/micro/export?format=jsonl").text.splitlines()
    ]
    row = next(r for r in rows if r["pmid"] == "777")
    assert row["status"] == "included" and row["machine_decision"] == "include"
    assert row["p_include"] == 0.91 and row["nct_ids"] == ["NCT01234567"]
    assert row["criteria"]["low_dose"]["reason"] == "lone 1 mg arm"
    assert {d["reviewer"] for d in row["decisions"]} == {"alice", "bob"}
    assert [d["note"] for d in row["decisions"] if d["reviewer"] == "alice"] == ["low dose"]
    assert not row["abstract"].startswith("UNLABELLED")

    table = list(
        csv.DictReader(io.StringIO(api.get("/api/v1/reviews/micro/export?format=csv").text))
    )
    got = next(r for r in table if r["pmid"] == "777")
    assert got["machine_decision"] == "include" and got["p_include"] == "0.91"
    assert (
        got["low_dose_verdict"] == "unclear" and got["psilocybin_reason"] == "psilocybin is studied"
    )
    assert "alice: include (low dose)" in got["decisions"]

    entries = rispy.loads(api.get("/api/v1/reviews/micro/export?format=ris").text)
    ris = next(e for e in entries if e["accession_number"] == "PMID:777")
    assert ris["type_of_reference"] == "JOUR"
    assert ris["keywords"] == ["microdosing"]  # MeSH kept apart
    assert ris["unknown_tag"]["MH"] == ["Psilocybin", "Humans"]
    assert (ris["volume"], ris["number"], ris["start_page"], ris["end_page"]) == (
        "12",
        "3",
        "123",
        "129",
    )
    assert ris["abstract"].startswith("A placebo-controlled")
    assert any("lone 1 mg arm" in n for n in ris["notes"])
    assert any("machine: include" in n for n in ris["notes"])


def test_dashboard_export_link_works_with_the_session_cookie(env: Env, client_for: Client) -> None:
    w = setup(env, blind=False)
    browser = sign_in(client_for(), w["alice"])
    page = browser.get("/reviews/micro")
    assert 'href="/reviews/micro/export.csv"' in page.text
    for fmt in ("csv", "ris", "jsonl"):
        r = browser.get(f"/reviews/micro/export.{fmt}")
        assert r.status_code == 200, fmt
        assert f'filename="micro.{fmt}"' in r.headers["content-disposition"]
    assert "777" in browser.get("/reviews/micro/export.csv").text
    assert browser.get("/reviews/micro/export.xls").status_code == 404
    assert client_for().get("/reviews/micro/export.csv", follow_redirects=False).status_code in (
        303,
        401,
    )


def test_blind_exports_use_blinded_ids_and_hide_unsettled_votes(
    env: Env, client_for: Client
) -> None:
    w = setup(env, blind=True)
    alice, bob = client_for(w["alice"]), client_for(w["bob"])
    rid = decide(alice, "include", note="mine")
    rows = [json.loads(x) for x in bob.get("/api/v1/reviews/micro/export").text.splitlines()]
    row = (
        next(r for r in rows if r["id"] == rid)
        if "id" in rows[0]
        else next(r for r in rows if r["pmid"] == "777")
    )
    assert row["decisions"] == []  # bob may not see alice's vote before the record settles
    decide(bob, "include")
    text = alice.get("/api/v1/reviews/micro/export").text
    assert "bob" not in text  # others appear by blinded id; the viewer sees their own name
    settled = next(json.loads(x) for x in text.splitlines() if '"777"' in x)
    assert sorted(d["reviewer"] for d in settled["decisions"]) == ["alice", "reviewer-2"]


def test_cli_export_writes_the_same_rows_in_every_format(env: Env, client_for: Client) -> None:
    """What ``livescreen export --format ...`` writes (cmd_export calls export_review)."""
    from services.pipeline.export import export_review

    w = setup(env, blind=True)
    decide(client_for(w["alice"]), "exclude", reasons=["low_dose"], note="too high")
    proto = env.runtime.protocols["micro"]
    texts = {}
    for fmt in ("jsonl", "csv", "ris"):
        out = io.StringIO()
        with env.session() as s:
            assert export_review(session=s, protocol=proto, out=out, fmt=fmt) == 2
        texts[fmt] = out.getvalue()
    row = next(json.loads(x) for x in texts["jsonl"].splitlines() if '"777"' in x)
    assert row["decisions"][0]["reviewer"] == "reviewer-1"  # blind: no names from the CLI
    assert row["decisions"][0]["note"] == "too high" and row["machine_decision"] == "include"
    assert "alice" not in texts["csv"] + texts["ris"]
    table = list(csv.DictReader(io.StringIO(texts["csv"])))
    assert {r["pmid"] for r in table} == {"777", "778"}
    assert len(rispy.loads(texts["ris"])) == 2
