"""Screening wired into the service: after sweeps, per protocol version, in exports and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from services.cli import main
from services.db.models import ReviewRecord, Screening
from services.pipeline.export import export_jsonl
from services.pipeline.jobs import screen_review, sweep_review
from services.runtime import build_runtime
from services.settings import FLAGSHIP_PROTOCOL, Settings, get_settings
from tests.eutils_server import FakeEutils, synthetic_record

INCLUDE = (
    "Psilocybin microdosing and mood: a randomised, double-blind, placebo-controlled trial",
    "Healthy adults (n = 80) received psilocybin 1 mg or an identical placebo every third day "
    "for four weeks in a randomised, double-blind design. Mood improved in both groups.",
)
EXCLUDE = (
    "LSD microdosing and creativity: a placebo-controlled trial",
    "Forty adults received 10 µg lysergic acid diethylamide (LSD) or placebo in a randomised, "
    "double-blind crossover design. Creativity did not differ between conditions.",
)


@pytest.fixture
def flagship_copy(tmp_path: Path) -> Path:
    path = tmp_path / "flagship.toml"
    path.write_text(FLAGSHIP_PROTOCOL.read_text())
    return path


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    records = [
        synthetic_record("35000001", title=INCLUDE[0], abstract=INCLUDE[1], edat=date(2025, 1, 2)),
        synthetic_record("35000002", title=EXCLUDE[0], abstract=EXCLUDE[1], edat=date(2025, 1, 3)),
    ]
    with FakeEutils(records) as server:
        yield server


def test_sweep_screens_new_records_and_export_carries_the_verdicts(
    database_url: str, fake: FakeEutils, flagship_copy: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        eutils_url=fake.base_url,
        protocols=[flagship_copy],
        ncbi_api_key="k",
    )
    runtime = build_runtime(settings)
    try:
        sweep_review(runtime, "psilocybin-microdosing")
        with runtime.sessions() as session:
            screenings = session.exec(select(Screening)).all()
            assert len(screenings) == 2
            by_pmid = {}
            out: list[str] = []

            class Sink:
                def write(self, text: str) -> None:
                    out.append(text)

            export_jsonl(session=session, protocol=runtime.protocol(None), out=Sink())  # type: ignore[arg-type]
            for line in "".join(out).splitlines():
                item = json.loads(line)
                by_pmid[item["pmid"]] = item
        include, exclude = by_pmid["35000001"], by_pmid["35000002"]
        assert include["machine_decision"] == "include"
        assert exclude["machine_decision"] == "exclude"
        assert include["p_include"] > exclude["p_include"]
        assert exclude["criteria"]["psilocybin"]["verdict"] == "not_met"
        evidence = include["criteria"]["low_dose"]["evidence"]
        assert evidence and all(
            include[e["field"]][e["start"] : e["end"]] == e["text"] for e in evidence
        )

        # The queue's ordering column carries the current p_include of each record.
        with runtime.sessions() as session:
            priorities = {rr.record_id: rr.priority for rr in session.exec(select(ReviewRecord))}
            current = {s.record_id: s.p_include for s in session.exec(select(Screening))}
        assert priorities == current

        # Nothing new: screening again adds nothing.
        assert screen_review(runtime, "psilocybin-microdosing") == 0
    finally:
        runtime.close()

    # A protocol change re-screens every record under the new version; old rows stay.
    text = flagship_copy.read_text()
    flagship_copy.write_text(
        text + '\n[[criteria]]\nname = "also_primary"\nkind = "publication_type"\n'
    )
    runtime = build_runtime(settings)
    try:
        assert screen_review(runtime, "psilocybin-microdosing") == 2
        with runtime.sessions() as session:
            versions = {s.protocol_version for s in session.exec(select(Screening))}
        assert len(versions) == 2
    finally:
        runtime.close()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("LIVESCREEN_PROTOCOLS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_classify_echoes_ids_and_reports_bad_lines(
    cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps(
            {
                "id": "A",
                "pmid": None,
                "title": INCLUDE[0],
                "abstract": INCLUDE[1],
                "labels": {"x": 1},
            }
        ),
        "{not json",
        json.dumps({"id": "C", "title": 5}),
        "",
        json.dumps({"id": "D", "pmid": "123", "title": EXCLUDE[0], "abstract": EXCLUDE[1]}),
    ]
    source.write_text("\n".join(lines) + "\n")
    assert main(["classify", str(source)]) == 1
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [(o["id"], o["pmid"]) for o in out] == [("A", None), ("D", "123")]
    assert out[0]["decision"] == "include" and out[1]["decision"] == "exclude"
    assert out[1]["failed"] == ["psilocybin"]  # an exclude names the failing criterion
    for item in out:
        assert set(item) - {"failed"} == {"id", "pmid", "decision", "p_include", "criteria"}
        for verdict in item["criteria"].values():
            assert set(verdict) >= {"verdict", "confidence", "evidence"}
    errors = captured.err.strip().splitlines()
    assert errors[0].startswith(f"{source}:2: skipped: not valid JSON")
    assert errors[1] == f"{source}:3: skipped: 'title' must be a string, got int"
    assert len(errors) == 2


def test_classify_missing_file_is_one_line(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["classify", "/nonexistent/in.jsonl"]) == 1
    assert capsys.readouterr().err.strip() == (
        "livescreen classify: error: /nonexistent/in.jsonl: cannot open: No such file or directory"
    )


def test_evaluate_reports_recall_work_saved_and_misses(
    cli_env: None, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(shared_data / "flagship-dev" / "records.jsonl")]) == 0
    report = capsys.readouterr().out
    assert "recall" in report and "work saved" in report and "precision" in report
    for criterion in ("psilocybin", "low_dose", "controlled", "primary_study"):
        assert criterion in report
