"""The living loop in-process (the embedded default) on SQLite and PostgreSQL: a sweep's new
eligible trial reaches a real webhook receiver exactly once, a second run sends nothing, a
revised record that becomes eligible alerts once, and a crash between steps loses nothing.

The flagship protocol has a ``[clinicaltrials]`` table, so its loop has the registry step:
the registry here is the local server of ``tests/registry`` (never clinicaltrials.gov).
Registry-specific cases are in ``test_chain_registry.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from services.alerts.subscriptions import subscribe
from services.db.alerts import Alert, Delivery
from services.db.dialect import aware
from services.db.models import Sweep
from services.db.runs import StepRun
from services.pipeline import chain
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL
from tests.alerts.receiver import Receiver, running_receiver
from tests.eutils_server import FakeEutils, synthetic_record
from tests.pipeline.test_sweep import make_settings
from tests.registry.server import FakeRegistry

SLUG = "psilocybin-microdosing"
TRIAL = (
    "Microdosing psilocybin in healthy adults: a randomised, double-blind, "
    "placebo-controlled trial",
    "Healthy adults were randomised to psilocybin 1 mg or placebo on six occasions. Mood "
    "and creativity were measured. Psilocybin at this low dose did not differ from placebo.",
)
OFF_TOPIC = ("A survey of coffee drinking habits", "We surveyed 500 people about coffee.")


def record(pmid: str, text: tuple[str, str], version: int = 1) -> object:
    """A record entered in March; a revision (``version`` > 1) is dated today, as PubMed's
    modification date is, so the next incremental sweep asks for it."""
    title, abstract = text
    return synthetic_record(
        pmid,
        title=title,
        abstract=abstract,
        edat=date(2026, 3, 1),
        version=version,
        mdat=date.today() if version > 1 else None,
    )


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    """An empty local registry: the registry step runs and finds nothing."""
    with FakeRegistry() as fake:
        yield fake


@pytest.fixture
def loop(
    database_url: str, tmp_path: Path, registry: FakeRegistry
) -> Iterator[tuple[Runtime, FakeEutils, Receiver]]:
    with FakeEutils([record("40000001", TRIAL), record("40000002", OFF_TOPIC)]) as fake:
        settings = make_settings(
            database_url,
            fake,
            FLAGSHIP_PROTOCOL,
            ncbi_api_key="test",
            alerts_allow_private=True,
            clinicaltrials_url=registry.base_url,
            clinicaltrials_requests_per_minute=60_000,  # a local server: no pacing needed
        )
        runtime = build_runtime(settings)
        with running_receiver("loop-secret") as hook:
            with runtime.sessions() as s:
                review_id = chain.review_id_of(runtime, SLUG)
                subscribe(
                    session=s,
                    settings=settings,
                    review_id=review_id,
                    channel="webhook",
                    target=hook.url(),
                    secret="loop-secret",
                )
                s.commit()
            try:
                yield runtime, fake, hook
            finally:
                runtime.close()


def alerted_pmids(hook: Receiver) -> list[str]:
    assert all(r.signature_ok for r in hook.received)
    return [json.loads(r.body)["record"]["pmid"] for r in hook.received]


def test_a_new_trial_alerts_once_and_a_second_run_sends_nothing(
    loop: tuple[Runtime, FakeEutils, Receiver],
) -> None:
    runtime, _, hook = loop
    results = chain.run_pipeline(runtime, SLUG)
    assert results["alerts"] == 1, results
    assert alerted_pmids(hook) == ["40000001"]
    chain.run_pipeline(runtime, SLUG)
    assert alerted_pmids(hook) == ["40000001"]  # nothing new: nothing sent
    with runtime.sessions() as s:
        runs = chain.last_runs(session=s, review_id=chain.review_id_of(runtime, SLUG))
        assert {step: run.state for step, run in runs.items()} == {
            step: "succeeded"
            for step in ("sweep", "registry", "screen", "rank", "alerts", "deliver")
        }
        assert runs["alerts"].sweep_id == runs["sweep"].sweep_id


def test_a_revised_record_that_becomes_eligible_alerts_once(
    loop: tuple[Runtime, FakeEutils, Receiver],
) -> None:
    runtime, fake, hook = loop
    chain.run_pipeline(runtime, SLUG)
    fake.replace(record("40000002", TRIAL, version=2))  # now the same eligible trial text
    chain.run_pipeline(runtime, SLUG)
    chain.run_pipeline(runtime, SLUG)
    assert sorted(alerted_pmids(hook)) == ["40000001", "40000002"]


def test_a_crash_between_the_sweep_and_its_alerts_loses_nothing(
    loop: tuple[Runtime, FakeEutils, Receiver],
) -> None:
    runtime, _, hook = loop
    chain.sweep_step(runtime, SLUG)  # ... and the process died here
    assert hook.received == []
    chain.run_pipeline(runtime, SLUG)  # the next run picks up the earlier sweep's records
    assert alerted_pmids(hook) == ["40000001"]
    with runtime.sessions() as s:
        assert len(list(s.exec(select(Alert)))) == 1
        assert [d.state for d in s.exec(select(Delivery))] == ["delivered"]


def test_a_failing_step_is_recorded_and_the_loop_goes_on(
    loop: tuple[Runtime, FakeEutils, Receiver],
) -> None:
    runtime, fake, hook = loop
    fake.stop()  # PubMed unreachable
    results = chain.run_pipeline(runtime, SLUG)
    assert "error" in results["sweep"]
    with runtime.sessions() as s:
        runs = list(
            s.exec(select(StepRun).where(StepRun.step == "sweep").order_by(col(StepRun.id)))
        )
        assert runs[-1].state == "failed" and runs[-1].error
        assert runs[-1].finished_at is not None
    assert results["deliver"]["failed"] == 0  # the later steps still ran


def test_status_shows_each_steps_last_run_the_deliveries_and_the_next_sweep(
    loop: tuple[Runtime, FakeEutils, Receiver],
) -> None:
    from services.pipeline.commands import _loop_lines
    from services.pipeline.status import review_status

    runtime, fake, _ = loop
    chain.run_pipeline(runtime, SLUG)
    fake.stop()  # the next sweep fails: status must say so, with the error
    chain.run_pipeline(runtime, SLUG)
    with runtime.sessions() as s:
        (review,) = review_status(session=s, protocols=runtime.protocols)
        finished = s.exec(select(Sweep).where(Sweep.state == "succeeded")).one().finished_at
    assert list(review["steps"]) == ["sweep", "registry", "screen", "rank", "alerts", "deliver"]
    assert review["steps"]["sweep"]["state"] == "failed"
    assert review["steps"]["sweep"]["error"]
    assert review["steps"]["deliver"]["state"] == "succeeded"
    assert review["deliveries"] == {"pending": 0, "failed": 0, "delivered": 1, "last_error": None}
    hours = runtime.protocols[SLUG].schedule_hours
    assert review["next_sweep_due"] == aware(finished + timedelta(hours=hours)).isoformat()
    lines = _loop_lines(review)
    assert lines[0] == f"next sweep due {review['next_sweep_due']}"
    assert lines[1].startswith("sweep: failed at ") and "; error: " in lines[1]
    assert lines[-1] == "deliveries: 0 pending, 0 failed, 1 delivered"


def test_the_rank_step_records_its_model_and_retraining_waits_for_decisions(
    loop: tuple[Runtime, FakeEutils, Receiver],
) -> None:
    from services.pipeline.status import review_status

    runtime, _, _ = loop
    chain.run_pipeline(runtime, SLUG)
    assert chain.rerank_if_decided(runtime, SLUG) is None  # nobody decided: nothing to learn
    assert chain.rerank_all(runtime) == {}
    with runtime.sessions() as s:
        (review,) = review_status(session=s, protocols=runtime.protocols)
    assert review["ranking"]["model_version"] == "rules"  # no include yet: the rules' order
    assert review["steps"]["rank"]["detail"].startswith("2 ranked by rules from 0 decided")
