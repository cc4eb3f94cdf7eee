"""Sweeps against a local E-utilities server, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from services.db.models import Record, RecordVersion, ReviewRecord, Sweep, SweepProblem
from services.errors import SweepError
from services.pipeline.jobs import sweep_review
from services.pipeline.sweep import SweepResult
from services.pubmed.ratelimit import LocalRateLimiter
from services.runtime import Runtime, build_runtime
from services.settings import Settings
from tests.eutils_server import FakeEutils, load_real_records, synthetic_record

TODAY = date(2026, 11, 30)
QUERY = "(microdos*[tiab]) AND psilocybin[tiab]"


def write_protocol(tmp_path: Path, slug: str = "test-review") -> Path:
    path = tmp_path / f"{slug}.toml"
    path.write_text(f'slug = "{slug}"\ntitle = "A test review"\nquery = """{QUERY}"""\n')
    return path


def make_settings(database_url: str, fake: FakeEutils, protocol: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "eutils_url": fake.base_url,
        "protocols": [protocol],
        "http_backoff": 0.01,
        "http_timeout": 5.0,
        "ncbi_email": "team@example.org",
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    with FakeEutils() as server:
        yield server


@pytest.fixture
def runtime(database_url: str, fake: FakeEutils, tmp_path: Path) -> Iterator[Runtime]:
    rt = build_runtime(make_settings(database_url, fake, write_protocol(tmp_path)))
    yield rt
    rt.close()


def sweep(runtime: Runtime, *, today: date = TODAY, **kwargs: Any) -> SweepResult:
    """A sweep as the scheduler runs it, with the pacing lifted (the limit is not tested here)."""
    return sweep_review(
        runtime, "test-review", today=today, limiter=LocalRateLimiter(1000.0), **kwargs
    )


def count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.sessions() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def synthetic_corpus(n: int, start: date, first_pmid: int = 30_000_000) -> list:
    return [
        synthetic_record(str(first_pmid + i), edat=start + timedelta(days=i % 400))
        for i in range(n)
    ]


def test_full_sweep_stores_every_real_record_and_second_sweep_changes_nothing(
    runtime: Runtime, fake: FakeEutils, shared_data: Path
) -> None:
    records = load_real_records(shared_data)
    for record in records:
        fake.add(record)
    first = sweep(runtime)
    assert first.state == "succeeded"
    assert first.counts["found"] == len(records)
    assert first.counts["new"] == len(records)
    assert count(runtime, Record) == len(records)
    assert count(runtime, RecordVersion) == len(records)

    with runtime.sessions() as session:
        before = {r.pmid: (r.content_hash, r.updated_at) for r in session.exec(select(Record))}
    second = sweep(runtime, today=TODAY + timedelta(days=1))
    assert second.state == "succeeded"
    assert second.counts["new"] == 0 and second.counts["updated"] == 0
    with runtime.sessions() as session:
        after = {r.pmid: (r.content_hash, r.updated_at) for r in session.exec(select(Record))}
    assert after == before
    assert count(runtime, RecordVersion) == len(records)


def test_window_over_retrieval_cap_is_split_until_complete(
    database_url: str, tmp_path: Path
) -> None:
    corpus = synthetic_corpus(260, date(2024, 1, 1))
    with FakeEutils(corpus, retrieval_cap=50) as fake:
        settings = make_settings(
            database_url, fake, write_protocol(tmp_path), esearch_limit=50, efetch_batch_size=25
        )
        rt = build_runtime(settings)
        try:
            result = sweep(rt, mindate="2024/01/01")
            assert result.state == "succeeded"
            assert count(rt, Record) == 260
            assert result.counts["found"] == 260
            assert result.counts["missing"] == 0
            # never asked past the cap: every esearch/efetch stayed within retstart < 50
            assert all(int(r.params.get("retstart", "0")) < 50 for r in fake.requests)
        finally:
            rt.close()


def test_a_day_over_the_retrieval_cap_fails_once_with_what_to_do(
    database_url: str, tmp_path: Path
) -> None:
    """One day is the finest split of a window: when it alone holds more than PubMed lets a
    search retrieve, the sweep stores what it could, says so, and the Celery step does not
    retry it (every attempt would meet the same cap)."""
    from services.errors import SweepOverflow
    from workers.tasks import sweep_review as sweep_task

    day = date(2024, 3, 1)
    corpus = [synthetic_record(str(30_000_000 + i), edat=day) for i in range(60)]
    with FakeEutils(corpus, retrieval_cap=50) as fake:
        settings = make_settings(
            database_url, fake, write_protocol(tmp_path), esearch_limit=50, efetch_batch_size=25
        )
        rt = build_runtime(settings)
        try:
            with pytest.raises(SweepOverflow, match="more than the retrieval cap of 50") as err:
                sweep(rt, mindate="2024/03/01", maxdate="2024/03/01")
            assert "narrow the protocol's query" in str(err.value)
            assert count(rt, Record) == 50
            with rt.sessions() as session:
                (row,) = session.exec(select(Sweep)).all()
                assert row.state == "failed" and "retrieval cap" in (row.error or "")
        finally:
            rt.close()
    assert issubclass(SweepOverflow, SweepError)  # still a sweep failure everywhere else
    assert SweepOverflow in sweep_task.dont_autoretry_for


def test_incremental_sweep_fetches_only_new_and_revised_records(
    runtime: Runtime, fake: FakeEutils
) -> None:
    for record in synthetic_corpus(30, date(2026, 10, 1)):
        fake.add(record)
    assert sweep(runtime).counts["new"] == 30

    later = TODAY + timedelta(days=3)
    fake.add(synthetic_record("39999999", title="A new record", edat=later))
    fake.replace(
        synthetic_record(
            "30000005", title="Revised title", edat=date(2026, 10, 6), mdat=later, version=2
        )
    )
    fake.requests.clear()
    result = sweep(runtime, today=later)
    assert result.state == "succeeded"
    assert (result.counts["new"], result.counts["updated"]) == (1, 1)
    assert result.counts["fetched"] == 2  # unchanged records were not fetched again

    searches = [r for r in fake.requests if r.path.endswith("esearch.fcgi")]
    assert {r.params["datetype"] for r in searches} == {"edat", "mdat"}
    assert {r.params["mindate"] for r in searches} == {"2026/11/29"}  # a day of overlap

    with runtime.sessions() as session:
        revised = session.exec(select(Record).where(Record.pmid == "30000005")).one()
        assert (revised.version, revised.title) == (2, "Revised title")
        history = session.exec(
            select(RecordVersion).where(RecordVersion.record_id == revised.id)
        ).all()
    assert sorted(v.version for v in history) == [1, 2]


def test_pmid_never_returned_by_efetch_is_recorded_missing_and_sweep_finishes(
    runtime: Runtime, fake: FakeEutils
) -> None:
    for record in synthetic_corpus(12, date(2026, 1, 1)):
        fake.add(record)
    fake.drop_pmids(["30000003", "30000007"])
    result = sweep(runtime)
    assert result.state == "succeeded_with_gaps"
    assert result.counts["missing"] == 2
    assert count(runtime, Record) == 10
    with runtime.sessions() as session:
        problems = session.exec(select(SweepProblem)).all()
    assert sorted((p.pmid, p.kind) for p in problems) == [
        ("30000003", "missing"),
        ("30000007", "missing"),
    ]


def test_unparseable_record_is_quarantined_and_its_batch_goes_on(
    runtime: Runtime, fake: FakeEutils
) -> None:
    for record in synthetic_corpus(5, date(2026, 1, 1)):
        fake.add(record)
    bad = synthetic_record("30000099", edat=date(2026, 1, 2))
    bad.xml = bad.xml.replace(b'<PMID Version="1">30000099</PMID>', b'<PMID Version="1">x</PMID>')
    fake.add(bad)
    result = sweep(runtime)
    assert result.state == "succeeded_with_gaps"
    assert result.counts["new"] == 5
    assert result.counts["quarantined"] == 1
    with runtime.sessions() as session:
        problem = session.exec(select(SweepProblem)).one()
    assert problem.kind == "quarantined" and problem.reason and problem.xml
    # esearch listed it as 30000099: that PMID stays a gap the next sweeps ask for again
    assert [(g["pmid"], g["kind"]) for g in result.gaps] == [("30000099", "quarantined")]


def test_rate_limit_and_server_errors_are_retried(runtime: Runtime, fake: FakeEutils) -> None:
    for record in synthetic_corpus(8, date(2026, 1, 1)):
        fake.add(record)
    fake.fail_next("esearch", 429, headers={"Retry-After": "0"})
    fake.fail_next("efetch", 502)
    fake.truncate_next("efetch")
    result = sweep(runtime)
    assert result.state == "succeeded"
    assert count(runtime, Record) == 8
    assert result.counts["requests"] == 5  # esearch twice, efetch three times


def test_sweep_that_cannot_complete_fails_with_reason_and_row(
    runtime: Runtime, fake: FakeEutils
) -> None:
    fake.add(synthetic_record("30000001", edat=date(2026, 1, 1)))
    fake.fail_next("esearch", 500, times=runtime.settings.http_retries + 1)
    with pytest.raises(SweepError, match="sweep 1 failed"):
        sweep(runtime)
    with runtime.sessions() as session:
        row = session.exec(select(Sweep)).one()
    assert row.state == "failed" and row.error and "500" in row.error
    # a later run is again a full sweep: a failure never advances the window
    result = sweep(runtime)
    assert result.state == "succeeded" and count(runtime, Record) == 1


def test_tool_email_and_api_key_are_sent(
    database_url: str, fake: FakeEutils, tmp_path: Path
) -> None:
    fake.add(synthetic_record("30000001", edat=date(2026, 1, 1)))
    rt = build_runtime(
        make_settings(database_url, fake, write_protocol(tmp_path), ncbi_api_key="K")
    )
    try:
        sweep(rt)
    finally:
        rt.close()
    for request in fake.requests:
        assert request.params["tool"] == "livescreen"
        assert request.params["email"] == "team@example.org"
        assert request.params["api_key"] == "K"


def test_sweep_killed_half_way_resumes_without_duplicates(
    database_url: str, fake: FakeEutils, tmp_path: Path
) -> None:
    for record in synthetic_corpus(100, date(2026, 1, 1)):
        fake.add(record)
    protocol = write_protocol(tmp_path)
    env = {
        **os.environ,
        "LIVESCREEN_DATABASE_URL": database_url,
        "LIVESCREEN_EUTILS_URL": fake.base_url,
        "LIVESCREEN_PROTOCOLS": str(protocol),
        "LIVESCREEN_EFETCH_BATCH_SIZE": "10",
        "LIVESCREEN_NCBI_API_KEY": "k",
    }
    fake.delay_next("efetch", 0.5, times=100)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "sweep", "--no-progress"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    settings = make_settings(database_url, fake, protocol, efetch_batch_size=10)
    rt = build_runtime(settings)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and count(rt, Record) < 20:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        stored_before = count(rt, Record)
        assert 20 <= stored_before < 100
        with rt.sessions() as session:
            assert session.exec(select(Sweep)).one().state == "running"

        fake.requests.clear()
        result = sweep(rt)
        assert result.sweep_id == 1  # the same sweep, resumed
        assert result.state == "succeeded"
        assert count(rt, Record) == 100
        assert count(rt, ReviewRecord) == 100
        assert count(rt, RecordVersion) == 100
        fetched_ids = sum(
            len(r.params.get("id", "").split(","))
            for r in fake.requests
            if r.path.endswith("efetch.fcgi") and r.params.get("id")
        )
        assert fetched_ids <= 100 - stored_before + 10  # at most one batch fetched again
    finally:
        rt.close()


def test_cli_sweep_status_and_export(
    database_url: str,
    fake: FakeEutils,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shared_data: Path,
) -> None:
    from services.cli import main
    from services.records import EXPORT_FIELDS
    from services.settings import get_settings

    for record in load_real_records(shared_data)[:20]:
        fake.add(record)
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    monkeypatch.setenv("LIVESCREEN_EUTILS_URL", fake.base_url)
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(write_protocol(tmp_path)))
    monkeypatch.setenv("LIVESCREEN_NCBI_API_KEY", "k")
    get_settings.cache_clear()
    try:
        assert main(["sweep", "--no-progress"]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert out[-1].startswith("test-review: sweep 1 succeeded: 20 found, 20 fetched, 20 new")

        assert main(["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        (review,) = status["reviews"]
        assert review["slug"] == "test-review" and review["records"] == 20
        assert review["last_sweep"]["state"] == "succeeded"
        assert review["last_sweep"]["counts"]["new"] == 20
        assert review["last_sweep"]["window"]["maxdate"]

        target = tmp_path / "out.jsonl"
        assert main(["export", "--format", "jsonl", "--output", str(target)]) == 0
        assert capsys.readouterr().err.strip() == f"wrote 20 records to {target}"
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        assert len(lines) == 20
        # every interchange field, with the review's own (status, decisions, machine verdicts)
        assert all(set(EXPORT_FIELDS) <= set(line) for line in lines)
        assert all(line["status"] == "pending" and line["decisions"] == [] for line in lines)
        assert {line["pmid"] for line in lines} == {r.pmid for r in fake.records()}

        fake.fail_next("esearch", 400, times=1)
        assert main(["sweep", "--no-progress", "--full"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("livescreen sweep: error: test-review: sweep 2")
    finally:
        get_settings.cache_clear()


def test_unknown_review_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from services.cli import main
    from services.settings import get_settings

    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    get_settings.cache_clear()
    try:
        assert main(["sweep", "--review", "nope"]) == 1
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert err == (
        "livescreen sweep: error: unknown review 'nope' (configured: psilocybin-microdosing)"
    )


def test_bad_date_argument_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    from services.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--mindate", "2026-01-01"])
    assert exit_info.value.code == 2
    assert "'2026-01-01' is not a date in YYYY/MM/DD form" in capsys.readouterr().err
