"""Screening wired into the service: after sweeps, per protocol version, in exports and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from services.cli import main
from services.db.models import Record, ReviewRecord, Screening
from services.pipeline.export import export_jsonl
from services.pipeline.jobs import screen_review, sweep_review
from services.pipeline.screen import ScreenLimits, build_screener, screen_pending
from services.pipeline.store import ensure_review
from services.runtime import Runtime, build_runtime
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


# --- no record can stall the pipeline ---------------------------------------------------

HOSTILE = "psilocybin 1 mg placebo "  # dose-dense, no full stop: the old worst case


def _stored(runtime: Runtime) -> dict[str, tuple[Record, Screening]]:
    """Each record's (record, screening) by PMID."""
    with runtime.sessions() as session:
        rows = session.exec(
            select(Record, Screening).join(Screening, Screening.record_id == Record.id)  # type: ignore[arg-type]
        ).all()
        return {record.pmid: (record, screening) for record, screening in rows}


@pytest.fixture
def hostile_fake() -> Iterator[FakeEutils]:
    big = HOSTILE * (1_000_000 // len(HOSTILE) + 1)  # a 1 MB abstract
    records = [
        synthetic_record("35000001", title=INCLUDE[0], abstract=INCLUDE[1], edat=date(2025, 1, 2)),
        synthetic_record(
            "35000003", title="Psilocybin dosing", abstract=big, edat=date(2025, 1, 3)
        ),
        synthetic_record("35000002", title=EXCLUDE[0], abstract=EXCLUDE[1], edat=date(2025, 1, 4)),
    ]
    with FakeEutils(records) as server:
        yield server


def test_a_1_mb_abstract_is_screened_on_truncated_text_and_marked_so(
    database_url: str, hostile_fake: FakeEutils, flagship_copy: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        eutils_url=hostile_fake.base_url,
        protocols=[flagship_copy],
        ncbi_api_key="k",
    )
    assert settings.screen_max_chars == 100_000
    runtime = build_runtime(settings)
    try:
        result = sweep_review(runtime, "psilocybin-microdosing")
        stored = _stored(runtime)
    finally:
        runtime.close()
    assert set(stored) == {"35000001", "35000002", "35000003"}  # all screened, none skipped
    assert stored["35000001"][1].decision == "include"
    assert stored["35000002"][1].decision == "exclude"
    record, screening = stored["35000003"]
    assert record.abstract is not None and len(record.abstract) > 1_000_000  # stored whole
    note = screening.criteria["_screening"]
    total = len(record.title) + len(record.abstract)
    assert note["reason"] == (
        f"screened on the first 100,000 of its {total:,} characters of title and abstract "
        "(LIVESCREEN_SCREEN_MAX_CHARS)"
    )
    for name, verdict in screening.criteria.items():
        for e in verdict["evidence"]:  # offsets index the stored text and lie in the prefix
            text = getattr(record, e["field"])
            assert text[e["start"] : e["end"]] == e["text"], name
            assert e["end"] <= 100_000
    # Truncation is visible on the record, not a gap of the sweep.
    assert result.state == "succeeded" and result.counts["unscreened"] == 0


def test_the_size_limit_is_a_setting(
    database_url: str, fake: FakeEutils, flagship_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVESCREEN_SCREEN_MAX_CHARS", "1000")
    settings = Settings(
        database_url=database_url,
        eutils_url=fake.base_url,
        protocols=[flagship_copy],
        ncbi_api_key="k",
    )
    assert settings.screen_max_chars == 1000
    fake.add(
        synthetic_record(
            "35000009", title="Long", abstract="word " * 499 + "word", edat=date(2025, 1, 5)
        )
    )
    runtime = build_runtime(settings)
    try:
        sweep_review(runtime, "psilocybin-microdosing")
        stored = _stored(runtime)
    finally:
        runtime.close()
    assert (
        "first 1,000 of its 2,503 characters"
        in stored["35000009"][1].criteria["_screening"]["reason"]
    )
    assert "_screening" not in stored["35000001"][1].criteria  # short records carry no note


class FakeClock:
    """A clock the screener double moves, so a slow record needs no real waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_record_that_raises_or_runs_over_budget_is_uncertain_and_the_batch_goes_on(
    database_url: str, hostile_fake: FakeEutils, flagship_copy: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        eutils_url=hostile_fake.base_url,
        protocols=[flagship_copy],
        ncbi_api_key="k",
    )
    runtime = build_runtime(settings)
    protocol = runtime.protocol(None)
    clock = FakeClock()
    real = build_screener(protocol)

    class Hostile:
        """The real screener, except that LSD makes it raise and dosing takes a minute."""

        def screen(self, record: dict[str, Any]) -> Any:
            title = str(record.get("title"))
            if "LSD" in title:
                raise ValueError("criterion blew up\non two lines")
            if title == "Psilocybin dosing":
                clock.now += 60.0
            return real.screen(record)

    try:
        runtime.protocols[protocol.slug] = protocol.model_copy(update={"criteria": []})
        sweep_review(runtime, protocol.slug)  # store only
        runtime.protocols[protocol.slug] = protocol
        with runtime.sessions() as session:
            review = ensure_review(session=session, protocol=protocol)
            session.commit()
            outcome = screen_pending(
                session=session,
                review=review,
                protocol=protocol,
                screener=Hostile(),  # type: ignore[arg-type]
                batch_size=1,
                limits=ScreenLimits(max_chars=100_000, seconds_per_record=5.0),
                clock=clock,
            )
        stored = _stored(runtime)
    finally:
        runtime.close()
    assert (outcome.screened, outcome.unscreened) == (3, 0)
    assert stored["35000001"][1].decision == "include"
    failed = stored["35000002"][1]
    assert (failed.decision, failed.p_include) == ("uncertain", 0.5)
    assert failed.criteria == {
        "_screening": {
            "verdict": "unclear",
            "confidence": 0.0,
            "evidence": [],
            "reason": "screening failed: ValueError: criterion blew up on two lines",
        }
    }
    slow = stored["35000003"][1]
    assert slow.decision == "uncertain"
    reason = slow.criteria["_screening"]["reason"]
    assert "screening took 60.0 s, over the budget of 5 s per record" in reason
    assert reason.startswith("screened on the first 100,000")  # and it was truncated too
    assert "low_dose" in slow.criteria  # the verdicts stay for the reviewer to see
    assert outcome.error is not None
    assert outcome.error.startswith("2 record(s) recorded uncertain: ")
    assert "PMID 35000002: screening failed: ValueError: criterion blew up" in outcome.error
    assert "PMID 35000003: screening took 60.0 s" in outcome.error


def test_screening_commits_per_batch_so_a_crash_keeps_the_work_done(
    database_url: str, fake: FakeEutils, flagship_copy: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        eutils_url=fake.base_url,
        protocols=[flagship_copy],
        ncbi_api_key="k",
    )
    runtime = build_runtime(settings)
    protocol = runtime.protocol(None)
    real = build_screener(protocol)

    seen: list[str] = []

    class DiesOnTheSecond:
        def screen(self, record: dict[str, Any]) -> Any:
            seen.append(str(record.get("title")))
            if len(seen) == 2:
                raise KeyboardInterrupt  # not an Exception: the process is going down
            return real.screen(record)

    try:
        runtime.protocols[protocol.slug] = protocol.model_copy(update={"criteria": []})
        sweep_review(runtime, protocol.slug)
        runtime.protocols[protocol.slug] = protocol
        with runtime.sessions() as session, pytest.raises(KeyboardInterrupt):
            review = ensure_review(session=session, protocol=protocol)
            session.commit()
            screen_pending(
                session=session,
                review=review,
                protocol=protocol,
                screener=DiesOnTheSecond(),  # type: ignore[arg-type]
                batch_size=1,
            )
        (first,) = _stored(runtime).values()  # the first batch was committed
        assert first[0].title == seen[0]
        assert screen_review(runtime, protocol.slug) == 1  # the next run does only the rest
    finally:
        runtime.close()


# --- records with blank titles or wrong-typed fields ------------------------------------

BAD_LINES = [
    ({"id": "blank", "title": "   \t", "abstract": None}, "'title' is blank"),
    ({"id": "blank2", "title": " ", "abstract": "  "}, "'title' is blank"),
    ({"id": "year", "title": INCLUDE[0], "year": "last spring"}, "'year' must be an integer"),
    ({"id": "year2", "title": INCLUDE[0], "year": 20.5}, "'year' must be an integer, got 20.5"),
    ({"id": "yes", "title": INCLUDE[0], "year": True}, "'year' must be an integer, got True"),
    ({"id": "mesh", "title": INCLUDE[0], "mesh_terms": "Humans"}, "'mesh_terms' must be a list"),
    ({"id": "kw", "title": INCLUDE[0], "keywords": ["a", 3]}, "'keywords' must be a list"),
]


@pytest.mark.parametrize("command", ["classify", "evaluate"])
def test_blank_titles_and_wrong_typed_fields_are_reported_by_line_and_field(
    cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    good = [
        {"id": "ok", "title": INCLUDE[0], "abstract": INCLUDE[1], "year": 2024},
        {"id": "ok2", "title": EXCLUDE[0], "abstract": EXCLUDE[1], "year": "2019"},
    ]
    lines = [dict(r, decision="include") for r in good[:1]]
    lines += [dict(r, decision="exclude") for r, _ in BAD_LINES] + [
        dict(good[1], decision="exclude")
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    status = main([command, str(source)])
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == len(BAD_LINES)
    for number, ((_record, expected), error) in enumerate(zip(BAD_LINES, errors, strict=True), 2):
        assert error.startswith(f"{source}:{number}: skipped: {expected}"), error
    if command == "classify":
        assert status == 1  # something was skipped
        assert [json.loads(o)["id"] for o in captured.out.splitlines()] == ["ok", "ok2"]
    else:
        assert status == 0 and "recall" in captured.out
