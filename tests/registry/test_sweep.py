"""Registry sweeps in the database (SQLite and PostgreSQL) against a local registry server:
paging, the incremental second sweep, 429 and 503, bad studies, revisions, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from services.cli import main
from services.db.alerts import Alert
from services.db.models import Record, RecordVersion, ReviewRecord, Screening
from services.db.registry import RegistrySweep
from services.registry.client import RegistryError
from services.registry.sweep import RegistryNotConfigured
from services.runtime import Runtime
from services.settings import get_settings
from tests.registry.conftest import NO_TABLE, PROTOCOL
from tests.registry.helpers import counts, sweep
from tests.registry.server import FakeRegistry
from tests.registry.studies import broken, nct, study


def test_first_sweep_pages_through_three_pages_and_screens(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(i), last_update=f"2026-10-{i + 1:02d}") for i in range(8)])
    report = sweep(runtime, registry)
    assert counts(report) == (8, 0, 0, 0)
    assert report.counts["pages"] == 3 and report.counts["found"] == 8
    assert report.counts["requests"] == 3 and report.counts["screened"] == 8
    assert report.since is None and report.high_water == date(2026, 10, 8)
    tokens = [r.get("pageToken") for r in registry.requests]
    assert tokens[0] is None and tokens[1] and tokens[2] and tokens[1] != tokens[2]
    assert all("filter.advanced" not in r for r in registry.requests)  # nothing to narrow yet
    with Session(runtime.engine) as session:
        keys = session.exec(select(Record.pmid).order_by(col(Record.pmid))).all()
        assert keys == [nct(i) for i in range(8)]
        record = session.exec(select(Record).where(Record.pmid == nct(0))).one()
        assert record.journal == "ClinicalTrials.gov" and record.year == 2025
        assert "1 mg psilocybin in an oral capsule" in (record.abstract or "")
        assert session.exec(select(func.count()).select_from(ReviewRecord)).one() == 8
        decisions = session.exec(select(Screening.decision)).all()
        assert len(decisions) == 8 and set(decisions) == {"include"}
        events = session.exec(select(Alert.event)).all()
        assert events == ["machine_include"] * 8 and report.counts["alerts"] == 8
        row = session.exec(select(RegistrySweep)).one()
        assert (row.state, row.new, row.pages, row.high_water) == (
            "succeeded", 8, 3, date(2026, 10, 8),
        )  # fmt: skip


def test_second_sweep_asks_only_for_updates_and_stores_a_revision(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(i), last_update=f"2026-10-{i + 1:02d}") for i in range(5)])
    first = sweep(runtime, registry)
    assert counts(first) == (5, 0, 0, 0) and first.high_water == date(2026, 10, 5)
    # Later: study 1 completed and posted results, a new study appeared, the rest unchanged.
    registry.replace(
        [study(nct(i), last_update=f"2026-10-{i + 1:02d}") for i in (0, 2, 3, 4)]
        + [
            study(nct(1), last_update="2026-11-20", status="COMPLETED", has_results=True),
            study(nct(7), last_update="2026-11-21"),
        ]
    )
    registry.requests.clear()
    second = sweep(runtime, registry)
    assert registry.requests[0]["filter.advanced"] == (
        "AREA[LastUpdatePostDate]RANGE[2026-10-05,MAX]"
    )
    # the server applied the filter: the boundary day's study again (unchanged), and the two
    assert counts(second) == (1, 1, 1, 0) and second.counts["found"] == 3
    assert second.counts["alerts"] == 2  # the new one and the revision, not the unchanged one
    assert second.since == date(2026, 10, 5) and second.high_water == date(2026, 11, 21)
    with Session(runtime.engine) as session:
        revised = session.exec(select(Record).where(Record.pmid == nct(1))).one()
        assert "Completed;" in (revised.abstract or "") and "results posted." in (
            revised.abstract or ""
        )
        versions = session.exec(
            select(func.count())
            .select_from(RecordVersion)
            .where(RecordVersion.record_id == revised.id)
        ).one()
        assert versions == 2  # the old content is kept beside the new
        screenings = session.exec(
            select(func.count()).select_from(Screening).where(Screening.record_id == revised.id)
        ).one()
        assert screenings == 2  # the revision was screened again
    registry.requests.clear()
    third = sweep(runtime, registry)
    assert registry.requests[0]["filter.advanced"].endswith("RANGE[2026-11-21,MAX]")
    assert counts(third) == (0, 0, 1, 0) and third.counts["alerts"] == 0


def test_429_with_retry_after_and_503_during_a_sweep_are_retried(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(i)) for i in range(4)])
    registry.fail_next(429, {"Retry-After": "1"})
    registry.fail_next(503)
    waits: list[float] = []
    report = sweep(runtime, registry, waits)
    assert counts(report) == (4, 0, 0, 0)
    assert report.counts["pages"] == 2 and report.counts["requests"] == 4
    assert waits[0] >= 1.0 and len(waits) == 2


def test_a_malformed_study_is_reported_and_the_rest_stored(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace(
        [study(nct(1)), broken("conditions"), broken("bad id"), study(nct(2)), "not a study"]
    )
    report = sweep(runtime, registry)
    assert counts(report) == (2, 0, 0, 3)
    assert report.problems == [
        {"where": nct(9), "problem": "conditionsModule.conditions must be a list of strings"},
        {
            "where": "study 3 of page 1",
            "problem": "identificationModule.nctId 'NCT-12' is not an NCT id (NCT + 8 digits)",
        },
        {"where": "study 2 of page 2", "problem": "a study must be a JSON object, got str"},
    ]
    with Session(runtime.engine) as session:
        row = session.exec(select(RegistrySweep)).one()
        assert row.bad == 3 and row.problems == report.problems


def test_a_failed_sweep_keeps_the_mark_and_what_it_stored(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(i), last_update="2026-10-01") for i in range(2)])
    assert sweep(runtime, registry).high_water == date(2026, 10, 1)
    registry.replace([study(nct(i), last_update="2026-11-01") for i in range(2, 6)])
    registry.fail_next(503, times=100)
    with pytest.raises(RegistryError, match="HTTP 503"):
        sweep(runtime, registry)
    registry.clear_failures()
    with Session(runtime.engine) as session:
        failed = session.exec(select(RegistrySweep).order_by(col(RegistrySweep.id).desc())).first()
        assert failed is not None and failed.state == "failed"
        assert failed.error and "after 4 attempts" in failed.error and failed.high_water is None
    registry.requests.clear()
    retry = sweep(runtime, registry)
    assert retry.since == date(2026, 10, 1)  # from the last succeeded sweep, not the failed one
    assert counts(retry) == (4, 0, 0, 0)


def test_a_changed_query_starts_again_from_nothing(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(1))])
    sweep(runtime, registry)
    protocol = runtime.protocol("registry")
    assert protocol.clinicaltrials is not None
    changed = protocol.clinicaltrials.model_copy(update={"condition": "depression"})
    runtime.protocols["registry"] = protocol.model_copy(update={"clinicaltrials": changed})
    registry.requests.clear()
    report = sweep(runtime, registry)
    assert report.since is None and "filter.advanced" not in registry.requests[0]
    assert registry.requests[0]["query.cond"] == "depression"
    assert counts(report) == (0, 0, 1, 0)


def test_a_full_sweep_asks_for_everything_again(runtime: Runtime, registry: FakeRegistry) -> None:
    registry.replace([study(nct(1), last_update="2026-10-01"), study(nct(2))])
    sweep(runtime, registry)
    registry.requests.clear()
    report = sweep(runtime, registry, full=True)
    assert "filter.advanced" not in registry.requests[0] and report.since is None
    assert counts(report) == (0, 0, 2, 0) and report.high_water == date(2026, 11, 2)


def test_a_review_without_a_table_has_no_registry_sweep(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    with pytest.raises(RegistryNotConfigured) as err:
        sweep(runtime, registry, slug="plain")
    assert "review 'plain'" in str(err.value) and "plain.toml has no [clinicaltrials] table" in (
        str(err.value)
    )
    assert registry.requests == []


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, registry: FakeRegistry
) -> Iterator[Path]:
    (tmp_path / "registry.toml").write_text(PROTOCOL)
    (tmp_path / "plain.toml").write_text(NO_TABLE)
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    monkeypatch.setenv(
        "LIVESCREEN_PROTOCOLS", f"{tmp_path / 'registry.toml'},{tmp_path / 'plain.toml'}"
    )
    monkeypatch.setenv("LIVESCREEN_CLINICALTRIALS_URL", registry.base_url)
    monkeypatch.setenv("LIVESCREEN_CLINICALTRIALS_REQUESTS_PER_MINUTE", "60000")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_registry_sweep_prints_counts(
    cli_env: Path, registry: FakeRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.replace([study(nct(1)), study(nct(2)), broken("results")])
    assert main(["registry", "sweep"]) == 0
    out = capsys.readouterr().out
    assert "review plain: no [clinicaltrials] table, no registry sweep" in out
    assert "of registry (updates since the beginning): new 2, updated 0, unchanged 0, bad 1" in out
    assert f"bad study {nct(9)}: hasResults must be true or false, got 'no'" in out
    assert "high-water mark 2026-11-02" in out
    assert main(["registry", "sweep", "--review", "registry", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert (report["since"], report["unchanged"], report["bad"]) == ("2026-11-02", 2, 1)
    assert main(["registry", "sweep", "--review", "plain"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("livescreen registry sweep: error: review 'plain': protocol file")
    assert err.count("\n") == 1
    registry.fail_next(400)
    assert main(["registry", "sweep", "--review", "registry"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"livescreen registry sweep: error: GET {registry.base_url}studies?")
    assert err.endswith("HTTP 400: Service answered 400\n") and err.count("\n") == 1
