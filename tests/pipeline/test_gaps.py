"""Nothing lost, nothing hidden: bad records isolated, missing ones retried, gaps visible."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from services.db.models import Record, RecordGap, Screening, Sweep, SweepProblem
from services.db.reviewing import User
from services.pipeline.jobs import sweep_review
from services.pipeline.sweep import SweepResult
from services.pubmed.ratelimit import LocalRateLimiter
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL, get_settings
from services.web.app import create_app
from tests.eutils_server import EFETCH_HEADER, FakeEutils, malformed_record, synthetic_record
from tests.pipeline.test_sweep import count, make_settings, synthetic_corpus, write_protocol

TODAY = date(2026, 11, 30)
BAD = ("30000005", "30000061", "30000062")  # two of them side by side


def admin_headers(runtime: Runtime) -> dict[str, str]:
    """A new admin's bearer token: /healthz shows its reasons to admins only."""
    from tests.web.factories import user

    with runtime.sessions() as session:
        token = user(
            session, f"ops{session.exec(select(func.count()).select_from(User)).one()}", "admin"
        )
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def sweep(runtime: Runtime, *, today: date = TODAY, **kwargs: object) -> SweepResult:
    return sweep_review(
        runtime,
        "test-review",
        today=today,
        limiter=LocalRateLimiter(1000.0),
        **kwargs,  # type: ignore[arg-type]
    )


def efetched_ids(fake: FakeEutils) -> list[str]:
    """Every PMID asked for by id, in order (history fetches carry no ids)."""
    return [
        pmid
        for r in fake.requests
        if r.path.endswith("efetch.fcgi") and r.params.get("id")
        for pmid in r.params["id"].split(",")
    ]


@pytest.fixture
def corpus_with_bad_records() -> Iterator[FakeEutils]:
    records = synthetic_corpus(120, date(2026, 1, 1))
    for i, record in enumerate(records):
        if record.pmid in BAD:
            records[i] = malformed_record(record.pmid, edat=record.edat)
    with FakeEutils(records) as fake:
        yield fake


@pytest.mark.parametrize("batch_size", [7, 64, 500])
def test_bad_record_is_quarantined_with_its_bytes_and_every_good_record_stored(
    database_url: str, corpus_with_bad_records: FakeEutils, tmp_path: Path, batch_size: int
) -> None:
    fake = corpus_with_bad_records
    settings = make_settings(
        database_url, fake, write_protocol(tmp_path), efetch_batch_size=batch_size
    )
    runtime = build_runtime(settings)
    try:
        result = sweep(runtime)
        assert result.state == "succeeded_with_gaps"
        assert result.counts["fetched"] == 117 and result.counts["new"] == 117
        assert result.counts["quarantined"] == 3 and result.counts["missing"] == 0
        with runtime.sessions() as session:
            stored = set(session.exec(select(Record.pmid)))
            problems = session.exec(select(SweepProblem)).all()
            gaps = session.exec(select(RecordGap)).all()
        assert stored == {r.pmid for r in fake.records()} - set(BAD)
        assert sorted(p.pmid for p in problems) == sorted(BAD)
        bad_xml = {r.pmid: r.xml for r in fake.records() if r.pmid in BAD}
        for problem in problems:
            assert problem.kind == "quarantined"
            assert problem.raw is not None and problem.raw.startswith(EFETCH_HEADER)
            assert bad_xml[problem.pmid] in problem.raw  # the exact bytes NCBI sent
            assert "not well-formed XML" in problem.reason and "EntityRef" in problem.reason
        assert sorted((g.pmid, g.kind, g.state) for g in gaps) == [
            (pmid, "quarantined", "open") for pmid in sorted(BAD)
        ]
        summary = result.summary("test-review")
        assert "3 quarantined" in summary and all(pmid in summary for pmid in BAD)

        with TestClient(create_app(runtime)) as client:
            response = client.get("/healthz", headers=admin_headers(runtime))
        assert response.status_code == 200  # the service is up; its data has gaps
        body = response.json()
        assert body["status"] == "degraded"
        (reason,) = body["reasons"]
        assert reason.startswith("test-review: last sweep 1 succeeded_with_gaps")
        assert "3 quarantined" in reason
    finally:
        runtime.close()


def test_isolating_a_bad_record_costs_a_few_requests_not_one_per_record(
    database_url: str, corpus_with_bad_records: FakeEutils, tmp_path: Path
) -> None:
    fake = corpus_with_bad_records
    settings = make_settings(database_url, fake, write_protocol(tmp_path), efetch_batch_size=500)
    runtime = build_runtime(settings)
    try:
        result = sweep(runtime)
    finally:
        runtime.close()
    assert result.counts["new"] == 117
    # one esearch, one history fetch, then halving around three bad records
    assert result.counts["requests"] <= 2 + 3 * 2 * 7
    assert len(efetched_ids(fake)) < 3 * 120


def test_missing_pmid_is_retried_by_next_sweeps_then_given_up_then_retried_on_request(
    database_url: str, fake: FakeEutils, tmp_path: Path
) -> None:
    for record in synthetic_corpus(12, date(2026, 1, 1)):
        fake.add(record)
    fake.drop_pmids(["30000007"])
    runtime = build_runtime(
        make_settings(database_url, fake, write_protocol(tmp_path), gap_attempts=3)
    )
    try:
        first = sweep(runtime)
        assert first.state == "succeeded_with_gaps" and first.counts["missing"] == 1
        assert count(runtime, Record) == 11

        attempts = []
        for day in (1, 2):
            fake.requests.clear()
            later = sweep(runtime, today=TODAY + timedelta(days=day))
            assert "30000007" in efetched_ids(fake)  # an incremental sweep asks again
            assert later.state == "succeeded_with_gaps"
            with runtime.sessions() as session:
                gap = session.exec(select(RecordGap)).one()
            attempts.append((gap.attempts, gap.state, later.counts["given_up"]))
        assert attempts == [(2, "open", 0), (3, "given_up", 1)]

        fake.requests.clear()
        quiet = sweep(runtime, today=TODAY + timedelta(days=3))
        assert "30000007" not in efetched_ids(fake)  # given up: no longer asked for
        assert quiet.state == "succeeded_with_gaps"  # but still reported
        assert [(g["pmid"], g["state"]) for g in quiet.gaps] == [("30000007", "given_up")]

        fake.restore_pmids(["30000007"])
        retried = sweep(runtime, today=TODAY + timedelta(days=4), retry_gaps=True)
        assert retried.state == "succeeded"
        assert retried.counts["recovered"] == 1 and retried.gaps == []
        assert count(runtime, Record) == 12 and count(runtime, RecordGap) == 0
    finally:
        runtime.close()


def test_missing_pmid_that_comes_back_is_stored_by_the_next_sweep(
    database_url: str, fake: FakeEutils, tmp_path: Path
) -> None:
    for record in synthetic_corpus(6, date(2026, 1, 1)):
        fake.add(record)
    fake.drop_pmids(["30000002"])
    runtime = build_runtime(make_settings(database_url, fake, write_protocol(tmp_path)))
    try:
        assert sweep(runtime).state == "succeeded_with_gaps"
        fake.restore_pmids(["30000002"])
        second = sweep(runtime, today=TODAY + timedelta(days=1))
        assert second.state == "succeeded"
        assert (second.counts["recovered"], second.counts["new"]) == (1, 1)
        assert count(runtime, Record) == 6
        with runtime.sessions() as session:
            history = [(s.id, s.state) for s in session.exec(select(Sweep).order_by(Sweep.id))]
        assert history == [(1, "succeeded_with_gaps"), (2, "succeeded")]
    finally:
        runtime.close()


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    with FakeEutils() as server:
        yield server


@pytest.fixture
def cli_env(
    database_url: str, fake: FakeEutils, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    monkeypatch.setenv("LIVESCREEN_EUTILS_URL", fake.base_url)
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(write_protocol(tmp_path)))
    monkeypatch.setenv("LIVESCREEN_NCBI_API_KEY", "k")
    monkeypatch.setenv("LIVESCREEN_GAP_ATTEMPTS", "1")  # give up at once
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_says_gaps_exits_3_only_when_strict_lists_them_and_retries_them(
    cli_env: None, fake: FakeEutils, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.cli import main

    for record in synthetic_corpus(5, date(2026, 1, 1)):
        fake.add(record)
    fake.add(malformed_record("30000099", edat=date(2026, 1, 2)))
    fake.drop_pmids(["30000003"])

    assert main(["sweep", "--no-progress"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("test-review: sweep 1 succeeded_with_gaps: 6 found, 4 fetched")
    assert "1 missing, 1 quarantined, 2 given up" in summary
    assert "missing (given up) 30000003" in summary
    assert "quarantined (given up) 30000099" in summary

    assert main(["status"]) == 0
    database, *lines = capsys.readouterr().out.strip().splitlines()
    assert database.startswith("database: ")
    assert "last sweep 1 succeeded_with_gaps" in lines[0] and "2 gap(s)" in lines[0]
    gap_lines = sorted(line.strip() for line in lines[1:] if " PMID " in line)
    assert gap_lines[0].startswith("missing PMID 30000003 (given up after 1 sweep(s)")
    assert gap_lines[0].endswith("listed by esearch but not returned by efetch")
    assert gap_lines[1].startswith("quarantined PMID 30000099 (given up")
    assert "not well-formed XML" in gap_lines[1]

    assert main(["status", "--json"]) == 0
    (review,) = json.loads(capsys.readouterr().out)["reviews"]
    assert {(g["pmid"], g["kind"], g["state"]) for g in review["gaps"]} == {
        ("30000003", "missing", "given_up"),
        ("30000099", "quarantined", "given_up"),
    }

    assert main(["sweep", "--no-progress", "--strict"]) == 3  # gaps remain: strict says so
    capsys.readouterr()

    fake.restore_pmids(["30000003"])
    fake.remove("30000099")
    fake.add(synthetic_record("30000099", title="Mood and memory", edat=date(2026, 1, 2)))
    fake.requests.clear()
    assert main(["sweep", "--no-progress", "--strict", "--retry-gaps"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert " succeeded: " in out and "2 recovered" in out
    assert {"30000003", "30000099"} <= set(efetched_ids(fake))
    assert main(["status", "--json"]) == 0
    (review,) = json.loads(capsys.readouterr().out)["reviews"]
    assert review["gaps"] == [] and review["records"] == 6


@pytest.fixture
def flagship(database_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, FakeEutils]]:
    protocol = tmp_path / "flagship.toml"
    protocol.write_text(FLAGSHIP_PROTOCOL.read_text())
    records = [
        synthetic_record(
            "35000001", title="Psilocybin microdosing: a placebo-controlled trial", edat=TODAY
        ),
        synthetic_record("35000002", title="LSD and creativity", edat=TODAY),
    ]
    with FakeEutils(records) as fake:
        runtime = build_runtime(make_settings(database_url, fake, protocol))
        yield runtime, fake
        runtime.close()


def test_failed_screening_step_is_recorded_and_the_sweep_does_not_say_succeeded(
    flagship: tuple[Runtime, FakeEutils],
) -> None:
    runtime, _fake = flagship
    slug = "psilocybin-microdosing"
    good = runtime.protocols[slug]
    # A criterion that got past loading but cannot be built (as an unknown kind did).
    spec = good.criteria[0].model_copy(update={"kind": "dosage"})
    runtime.protocols[slug] = good.model_copy(update={"criteria": [spec, *good.criteria[1:]]})
    result = sweep_review(runtime, slug, today=TODAY, limiter=LocalRateLimiter(1000.0))
    assert result.state == "succeeded_with_gaps"
    assert result.counts["new"] == 2
    assert (result.counts["screened"], result.counts["unscreened"]) == (0, 2)
    assert result.screen_error and "dosage" in result.screen_error
    assert "screening: " in result.summary(slug)
    with TestClient(create_app(runtime)) as client:
        body = client.get("/healthz", headers=admin_headers(runtime)).json()
    assert body["status"] == "degraded"
    assert "2 unscreened" in body["reasons"][0] and "dosage" in body["reasons"][0]
    (review,) = body["reviews"]
    assert review["last_sweep"]["screen_error"] == result.screen_error

    runtime.protocols[slug] = good  # fixed: the next sweep screens what was left
    fixed = sweep_review(
        runtime, slug, today=TODAY + timedelta(days=1), limiter=LocalRateLimiter(1000.0)
    )
    assert fixed.state == "succeeded"
    assert (fixed.counts["screened"], fixed.counts["unscreened"]) == (2, 0)
    with TestClient(create_app(runtime)) as client:
        assert client.get("/healthz").json()["status"] == "ok"


def test_one_record_the_screener_cannot_handle_does_not_stop_the_others(
    flagship: tuple[Runtime, FakeEutils],
) -> None:
    from services.pipeline.screen import build_screener, screen_pending
    from services.pipeline.store import ensure_review

    runtime, _fake = flagship
    protocol = runtime.protocol(None)
    sweep_review(runtime, protocol.slug, today=TODAY, limiter=LocalRateLimiter(1000.0))
    real = build_screener(protocol)

    class FailsOnLSD:
        """The real screener, except that it raises on one record's title."""

        def screen(self, record: dict[str, object]) -> object:
            if "LSD" in str(record.get("title")):
                raise ValueError("cannot read this record")
            return real.screen(record)

    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=protocol)
        for screening in session.exec(select(Screening)):
            session.delete(screening)
        session.commit()
        outcome = screen_pending(
            session=session,
            review=review,
            protocol=protocol,
            screener=FailsOnLSD(),  # type: ignore[arg-type]
            batch_size=1,
        )
    # The failing record is stored uncertain with the error, so no later sweep retries it.
    assert (outcome.screened, outcome.unscreened) == (2, 0)
    assert outcome.error == (
        "1 record(s) recorded uncertain: PMID 35000002: "
        "screening failed: ValueError: cannot read this record"
    )


def test_dashboard_lists_quarantined_and_missing_pmids_with_reasons(
    database_url: str, fake: FakeEutils, tmp_path: Path
) -> None:
    import lxml.html

    from tests.web.factories import user
    from tests.web.test_auth import sign_in

    for record in synthetic_corpus(4, date(2026, 1, 1)):
        fake.add(record)
    fake.add(malformed_record("30000099", edat=date(2026, 1, 2)))
    fake.drop_pmids(["30000001"])
    runtime = build_runtime(make_settings(database_url, fake, write_protocol(tmp_path)))
    try:
        sweep(runtime)
        with runtime.sessions() as session:
            token = user(session, "alice")
            session.commit()
        with TestClient(create_app(runtime), follow_redirects=False) as client:
            page = sign_in(client, token).get("/reviews/test-review")
        assert page.status_code == 200
        doc = lxml.html.fromstring(page.text)
        (last,) = doc.xpath("//*[@id='last-sweep']")
        assert "succeeded_with_gaps" in last.text_content()
        rows = [
            [cell.text_content().strip() for cell in row.xpath("td")]
            for row in doc.xpath("//section[@id='sweep-gaps']//tr[@class='gap']")
        ]
        assert sorted(row[:4] for row in rows) == [
            ["30000001", "missing", "open", "1"],
            ["30000099", "quarantined", "open", "1"],
        ]
        reasons = {row[0]: row[4] for row in rows}
        assert reasons["30000001"] == "listed by esearch but not returned by efetch"
        assert "not well-formed XML" in reasons["30000099"]

        fake.restore_pmids(["30000001"])
        fake.remove("30000099")
        fake.add(synthetic_record("30000099", edat=date(2026, 1, 2)))
        assert sweep(runtime, today=TODAY + timedelta(days=1)).state == "succeeded"
        with TestClient(create_app(runtime), follow_redirects=False) as client:
            page = sign_in(client, token).get("/reviews/test-review")
        assert lxml.html.fromstring(page.text).xpath("//section[@id='sweep-gaps']") == []
    finally:
        runtime.close()
