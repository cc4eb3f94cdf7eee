"""A JSONL export imported into a new review with ``--with-decisions`` reproduces the
records and every human decision, conflict and resolution; twice adds nothing; one bad
decision is listed and skipped; unknown reviewers get disabled accounts of their own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from services.cli import main
from services.db.reviewing import User
from services.imports.commands import run_import
from services.imports.items import FormatError
from services.settings import get_settings
from tests.web import factories as f
from tests.web.conftest import Env

Client = Callable[..., httpx.Client]
KEPT = ("pmid", "title", "abstract", "status", "final_decision", "decisions", "resolution")


def decide(client: httpx.Client, slug: str, rid: int, decision: str, **extra: object) -> None:
    claimed = client.post(f"/api/v1/reviews/{slug}/next").json()["id"]
    assert claimed == rid, (claimed, rid)
    r = client.post(
        f"/api/v1/reviews/{slug}/records/{rid}/decisions", json={"decision": decision, **extra}
    )
    assert r.status_code in (200, 201), r.text


def exported(client: httpx.Client, slug: str) -> dict[str, dict]:
    text = client.get(f"/api/v1/reviews/{slug}/export?format=jsonl").text
    rows = [json.loads(line) for line in text.splitlines()]
    return {r["pmid"]: {k: r[k] for k in KEPT} for r in rows}


@pytest.fixture
def screened(env: Env, client_for: Client, tmp_path: Path) -> dict:
    """A dual-screened review with an agreed include, an agreed exclude with reasons and
    notes, a resolved conflict and a maybe, exported as JSONL."""
    for slug in ("micro", "fork"):
        env.add_protocol(f.protocol(slug, screening="dual", blind=False))
    with env.session() as s:
        rev = f.review(s, env.runtime.protocols["micro"])
        rids = [f.record(s, rev, str(700 + i), p_include=0.9 - i / 10).id for i in range(4)]
        tokens = {n: f.user(s, n) for n in ("alice", "bob")}
        tokens["carol"] = f.user(s, "carol", "resolver")
        tokens["root"] = f.user(s, "root", "admin")
        s.commit()
    alice, bob = client_for(tokens["alice"]), client_for(tokens["bob"])
    decide(alice, "micro", rids[0], "include", note="1 mg arm")
    decide(bob, "micro", rids[0], "include")
    decide(alice, "micro", rids[1], "exclude", reasons=["low_dose"], note="25 mg")
    decide(bob, "micro", rids[1], "exclude", reasons=["low_dose", "controlled"])
    decide(alice, "micro", rids[2], "include")
    decide(bob, "micro", rids[2], "exclude", reasons=["controlled"])
    carol = client_for(tokens["carol"])
    r = carol.post(
        f"/api/v1/reviews/micro/records/{rids[2]}/resolution",
        json={"decision": "include", "note": "placebo arm found"},
    )
    assert r.status_code == 201, r.text
    decide(alice, "micro", rids[3], "maybe", note="look again")
    admin = client_for(tokens["root"])
    path = tmp_path / "micro.jsonl"
    path.write_text(admin.get("/api/v1/reviews/micro/export?format=jsonl").text)
    return {"path": path, "admin": admin, "tokens": tokens, "rids": rids}


def test_decisions_come_back_whole_in_a_new_review(
    env: Env, client_for: Client, screened: dict
) -> None:
    report = run_import(
        env.runtime, slug="fork", path=screened["path"], fmt=None, screen=False, with_decisions=True
    ).to_json()
    assert (report["imported"], report["decisions_restored"], report["resolutions_restored"]) == (
        4, 7, 1
    )  # fmt: skip
    assert report["accounts_created"] == [] and report["problems"] == []
    admin = screened["admin"]
    before, after = exported(admin, "micro"), exported(admin, "fork")
    assert after == before
    assert {p: r["status"] for p, r in after.items()} == {
        "700": "included", "701": "excluded", "702": "included", "703": "maybe",
    }  # fmt: skip
    counts = admin.get("/api/v1/reviews/fork").json()["counts"]
    assert (counts["included"], counts["excluded"], counts["conflicts"]) == (2, 1, 0)
    # The queue knows who decided: alice has nothing left (her maybe is hers), and bob is
    # offered the one record that still lacks his vote.
    alice = client_for(screened["tokens"]["alice"])
    assert alice.post("/api/v1/reviews/fork/next").status_code == 204
    bob = client_for(screened["tokens"]["bob"])
    assert bob.post("/api/v1/reviews/fork/next").json()["id"] == screened["rids"][3]
    again = run_import(
        env.runtime, slug="fork", path=screened["path"], fmt=None, screen=False, with_decisions=True
    ).to_json()
    assert again["already_imported"] and exported(admin, "fork") == before


def test_a_conflict_comes_back_as_a_conflict(env: Env, client_for: Client, screened: dict) -> None:
    rows = [json.loads(line) for line in screened["path"].read_text().splitlines()]
    for row in rows:
        row["resolution"] = None  # the conflict on 702 is not resolved in this file
    screened["path"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_import(
        env.runtime, slug="fork", path=screened["path"], fmt=None, screen=False, with_decisions=True
    )
    carol = client_for(screened["tokens"]["carol"])
    conflicts = carol.get("/api/v1/reviews/fork/conflicts").json()
    assert [c["pmid"] for c in conflicts] == ["702"]


def test_bad_decisions_are_listed_and_unknown_reviewers_get_disabled_accounts(
    env: Env, screened: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [json.loads(line) for line in screened["path"].read_text().splitlines()]
    by_pmid = {r["pmid"]: r for r in rows}
    by_pmid["700"]["decisions"][1]["reviewer"] = "dora"  # not on this instance
    by_pmid["701"]["decisions"][0]["reasons"] = ["colour"]  # no such criterion
    by_pmid["703"]["decisions"][0]["created_at"] = "yesterday"
    screened["path"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = run_import(
        env.runtime, slug="fork", path=screened["path"], fmt=None, screen=False, with_decisions=True
    ).to_json()
    assert report["imported"] == 4 and report["decisions_restored"] == 5
    assert report["accounts_created"] == ["dora"]
    problems = {(p["where"], p["problem"].split(":")[0]) for p in report["problems"]}
    assert problems == {("line 2", "decision 1"), ("line 4", "decision 1")}
    assert any("'colour'" in p["problem"] for p in report["problems"])
    assert any("not an ISO 8601 time" in p["problem"] for p in report["problems"])
    with env.session() as s:
        dora = s.exec(select(User).where(User.name == "dora")).one()
        assert not dora.active and dora.role == "reviewer"


def test_other_formats_are_refused_with_decisions(
    env: Env, screened: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ris = tmp_path / "micro.ris"
    ris.write_text(screened["admin"].get("/api/v1/reviews/micro/export?format=ris").text)
    with pytest.raises(FormatError, match="only from livescreen's JSONL export"):
        run_import(env.runtime, slug="fork", path=ris, fmt=None, screen=False, with_decisions=True)


def test_cli_with_decisions_reports_what_came_back(
    env: Env,
    screened: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    protocol = tmp_path / "fork.toml"
    protocol.write_text(
        'slug = "fork"\ntitle = "Fork"\nquery = "psilocybin"\nscreening = "dual"\nblind = false\n'
        + "".join(
            f'[[criteria]]\nname = "{n}"\nkind = "substance"\nterms = ["x"]\n' for n in f.CRITERIA
        )
    )
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", env.runtime.settings.database_url)
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(protocol))
    get_settings.cache_clear()
    try:
        code = main(["import", "--no-screen", "--with-decisions", str(screened["path"])])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "decisions restored 7, resolutions restored 1" in out


def test_the_api_upload_restores_decisions_when_asked(env: Env, screened: dict) -> None:
    admin, body = screened["admin"], screened["path"].read_bytes()
    files = {"file": ("micro.jsonl", body, "application/x-ndjson")}
    plain = admin.post("/api/v1/reviews/fork/imports", files=files, data={"screen": "false"})
    assert plain.status_code == 200, plain.text
    assert plain.json()["decisions_restored"] == 0  # not asked: records only
    assert exported(admin, "fork")["700"]["decisions"] == []
    asked = admin.post(
        "/api/v1/reviews/fork/imports",
        files=files,
        data={"screen": "false", "with_decisions": "true"},
    )
    assert asked.status_code == 200, asked.text
    assert not asked.json()["already_imported"] and asked.json()["decisions_restored"] == 7
    assert exported(admin, "fork") == exported(admin, "micro")
