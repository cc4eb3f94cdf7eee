"""The registry step of the living loop, on SQLite and PostgreSQL, against the local
registry server of ``tests/registry`` (never clinicaltrials.gov): it runs after the PubMed
sweep exactly when the protocol has a ``[clinicaltrials]`` table, records its own
StepRun, alerts on a new eligible registration once, and a registry outage fails its run
but not the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from services.db.models import Record
from services.db.registry import RegistrySweep
from services.db.runs import StepRun
from services.pipeline import chain
from services.runtime import Runtime, build_runtime
from tests.alerts.receiver import Receiver
from tests.eutils_server import FakeEutils
from tests.pipeline.test_chain import SLUG, TRIAL, alerted_pmids, loop, record, registry
from tests.pipeline.test_sweep import make_settings
from tests.registry.server import FakeRegistry
from tests.registry.studies import nct, study

__all__ = ["loop", "registry"]
Loop = tuple[Runtime, FakeEutils, Receiver]


def steps_run(runtime: Runtime) -> list[str]:
    with runtime.sessions() as s:
        return list(s.exec(select(StepRun.step).order_by(col(StepRun.id))).all())


def test_the_registry_step_follows_the_sweep_and_a_new_trial_alerts_once(
    loop: Loop, registry: FakeRegistry
) -> None:
    runtime, _, hook = loop
    registry.replace([study(nct(1))])
    results = chain.run_pipeline(runtime, SLUG)
    assert list(results) == ["sweep", "registry", "screen", "rank", "alerts", "deliver"]
    assert steps_run(runtime) == list(results)  # one StepRun each, registry after the sweep
    report: dict[str, Any] = results["registry"]
    assert (report["new"], report["bad"]) == (1, 0) and report["alerts"] == 1, report
    assert sorted(alerted_pmids(hook)) == sorted(["40000001", nct(1)])

    again = chain.run_pipeline(runtime, SLUG)  # idempotent: nothing new, nothing sent
    assert (again["registry"]["new"], again["registry"]["unchanged"]) == (0, 1)
    assert again["registry"]["alerts"] == 0
    assert sorted(alerted_pmids(hook)) == sorted(["40000001", nct(1)])
    with runtime.sessions() as s:
        runs = chain.last_runs(session=s, review_id=chain.review_id_of(runtime, SLUG))
        assert runs["registry"].state == "succeeded"
        assert runs["registry"].detail.startswith("registry sweep ")
        assert "new 0, updated 0, unchanged 1" in runs["registry"].detail
        sweeps = s.exec(select(RegistrySweep).order_by(col(RegistrySweep.id))).all()
        assert [w.state for w in sweeps] == ["succeeded", "succeeded"]
        assert sweeps[1].since is not None  # the second asked only for updates since the mark
        assert s.exec(select(Record).where(col(Record.pmid) == nct(1))).one()
    assert "filter.advanced" in registry.requests[-1]


def test_a_registry_outage_fails_its_run_and_the_loop_goes_on(
    loop: Loop, registry: FakeRegistry
) -> None:
    runtime, _, hook = loop
    registry.fail_next(503, times=50)  # more than the client's retries
    results = chain.run_pipeline(runtime, SLUG)
    assert "error" in results["registry"] and "503" in results["registry"]["error"]
    assert alerted_pmids(hook) == ["40000001"]  # PubMed's trial still screened and sent
    with runtime.sessions() as s:
        runs = chain.last_runs(session=s, review_id=chain.review_id_of(runtime, SLUG))
        assert runs["registry"].state == "failed" and "503" in (runs["registry"].error or "")
        assert runs["registry"].finished_at is not None
        assert {step: r.state for step, r in runs.items() if step != "registry"} == {
            step: "succeeded" for step in ("sweep", "screen", "rank", "alerts", "deliver")
        }
    registry.clear_failures()
    registry.replace([study(nct(2))])
    chain.run_pipeline(runtime, SLUG)  # the next run asks again: nothing was lost
    assert nct(2) in alerted_pmids(hook)


def test_the_registry_task_records_a_failure_and_lets_the_chain_go_on(
    loop: Loop, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Celery task (run eagerly): a registry error is its run's failure, returned as
    the task's result instead of raised, so the chain's later tasks still run."""
    from workers import tasks

    runtime, _, _ = loop
    monkeypatch.setattr(tasks, "worker_runtime", lambda: runtime)
    registry.replace([study(nct(3))])
    done = tasks.sweep_registry.apply(args=[SLUG]).get()
    assert done["state"] == "succeeded" and done["new"] == 1
    registry.fail_next(503, times=50)
    failed = tasks.sweep_registry.apply(args=[SLUG]).get()
    assert failed["state"] == "failed" and "503" in failed["error"]
    assert steps_run(runtime) == ["registry", "registry"]


def test_a_protocol_without_the_table_skips_the_registry_step(
    database_url: str, tmp_path: Path
) -> None:
    protocol = tmp_path / "plain.toml"
    protocol.write_text(
        'slug = "plain"\ntitle = "No registry"\nquery = "psilocybin"\n'
        '\n[[criteria]]\nname = "psilocybin"\nkind = "substance"\n'
        'substance = "psilocybin"\nterms = ["psilocybin"]\n'
    )
    with FakeEutils([record("40000001", TRIAL)]) as fake:
        runtime = build_runtime(
            make_settings(
                database_url,
                fake,
                protocol,
                ncbi_api_key="test",
                clinicaltrials_url="http://127.0.0.1:9/api/v2/",  # would fail if asked
            )
        )
        try:
            assert chain.steps_for(runtime.protocol("plain")) == [
                "sweep", "screen", "rank", "alerts", "deliver",
            ]  # fmt: skip
            results = chain.run_pipeline(runtime, "plain")
            assert "registry" not in results
            assert not any(isinstance(r, dict) and "error" in r for r in results.values())
            assert chain.registry_step(runtime, "plain") is None
            assert "registry" not in steps_run(runtime)
            assert steps_run(runtime) == ["sweep", "screen", "rank", "alerts", "deliver"]
        finally:
            runtime.close()
