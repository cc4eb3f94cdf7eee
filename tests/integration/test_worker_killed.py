"""A worker killed with SIGKILL in the middle of the chain loses nothing and sends nothing twice.

A real worker (`livescreen worker`, solo pool) on the real Redis runs a review's chain
against the local E-utilities server and a local webhook receiver. It is killed while
the sweep waits on efetch, or while the webhook receiver holds the delivery's request;
a second worker is started, and the end state must be that of a run without the kill:
every record stored once, one alert, one delivered delivery, every step succeeded.
To be killed inside the screen and rank steps, whose work is otherwise over in
milliseconds, the review first gets a backlog: thousands of stored, unscreened
records (as an import without screening, or a protocol change, leaves them) and two
human decisions, so screening takes seconds and the first ranking learns, cold.
Short timeouts (visibility 3 s, sweep lock 2 s, delivery lease 5 s) stand in for the
production ones so the test takes seconds, not hours.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.alerts.subscriptions import subscribe
from services.db.alerts import Alert, Delivery
from services.db.models import Record, ReviewRecord, Screening, Sweep
from services.db.reviewing import Decision
from services.db.runs import StepRun
from services.pipeline.chain import deliver_step, review_id_of
from services.pipeline.store import store_records
from services.records import Record as Parsed
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL, Settings
from services.web.accounts import create_user
from tests.alerts.receiver import HANG, Receiver, running_receiver
from tests.eutils_server import FakeEutils, synthetic_record
from tests.integration.test_worker_and_beat_commands import livescreen, stop
from tests.registry.server import FakeRegistry

pytestmark = [pytest.mark.integration, pytest.mark.redis]
SLUG = "psilocybin-microdosing"
# The flagship protocol has a [clinicaltrials] table: its chain has the registry step
# (answered by the local registry server, never clinicaltrials.gov).
STEPS = {"sweep", "registry", "screen", "rank", "alerts", "deliver"}


@dataclass
class Deployment:
    env: dict[str, str]
    runtime: Runtime
    fake: FakeEutils
    hook: Receiver
    review_id: int
    logs: Path

    def send_pipeline(self, task: str = "livescreen.pipeline") -> None:
        from workers.celery_app import create_celery

        app = create_celery(self.runtime.settings)
        try:
            app.send_task(task, args=[SLUG], queue=self.env["LIVESCREEN_CELERY_QUEUE"])
        finally:
            app.close()

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return livescreen(
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            env=self.env,
            log=self.logs / f"{name}.log",
        )

    def count(self, query: object) -> int:
        with self.runtime.sessions() as session:
            return int(session.exec(query).one())  # type: ignore[call-overload]

    def running(self, step: str) -> bool:
        with self.runtime.sessions() as session:
            query = select(StepRun.id).where(StepRun.step == step, StepRun.state == "running")
            return session.exec(query).first() is not None

    def succeeded_steps(self) -> set[str]:
        with self.runtime.sessions() as session:
            return set(session.exec(select(StepRun.step).where(StepRun.state == "succeeded")))


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def deployment(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Deployment]:
    trial = synthetic_record(
        "42000001",
        title="Microdosing psilocybin in healthy adults: a randomised, double-blind, "
        "placebo-controlled trial",
        abstract="Healthy adults were randomised to psilocybin 1 mg or placebo on six "
        "occasions. Psilocybin at this low dose did not differ from placebo.",
        edat=date(2026, 3, 1),
    )
    other = synthetic_record("42000002", edat=date(2026, 3, 2))
    with (
        FakeEutils([trial, other]) as fake,
        running_receiver("kill-secret") as hook,
        FakeRegistry() as registry,
    ):
        values = {
            "database_url": database_url,
            "broker_url": redis_server.rsplit("/", 1)[0] + "/11",
            "celery_queue": f"test-{uuid.uuid4().hex[:8]}",
            "eutils_url": fake.base_url,
            "protocols": str(FLAGSHIP_PROTOCOL),
            "ncbi_api_key": "test",
            "alerts_allow_private": "1",
            "alerts_timeout": "2",
            "celery_visibility_timeout": "3",
            "sweep_lock_seconds": "2",
            "delivery_lease_seconds": "5",
            "http_backoff": "0.05",
            "clinicaltrials_url": registry.base_url,
            "clinicaltrials_requests_per_minute": "60000",
        }
        env = {**os.environ, **{f"LIVESCREEN_{k.upper()}": v for k, v in values.items()}}
        settings = Settings(
            **{k: v for k, v in values.items() if k != "protocols"},  # type: ignore[arg-type]
            protocols=[FLAGSHIP_PROTOCOL],
        )
        runtime = build_runtime(settings)
        review_id = review_id_of(runtime, SLUG)
        with runtime.sessions() as session:
            subscribe(
                session=session,
                settings=settings,
                review_id=review_id,
                channel="webhook",
                target=hook.url(),
                secret="kill-secret",
            )
            session.commit()
        try:
            yield Deployment(env, runtime, fake, hook, review_id, tmp_path)
        finally:
            hook.release.set()
            runtime.close()


def assert_as_if_never_killed(d: Deployment, records: int = 2) -> None:
    assert d.count(select(func.count()).select_from(Record)) == records
    assert d.count(select(func.count()).select_from(Alert)) == 1
    assert d.count(select(func.count()).select_from(Delivery)) == 1
    assert (
        d.count(select(func.count()).select_from(Delivery).where(Delivery.state == "delivered"))
        == 1
    )
    with d.runtime.sessions() as session:
        states = {s.state for s in session.exec(select(Sweep))}
        running = list(session.exec(select(StepRun).where(StepRun.state == "running")))
    assert states == {"succeeded"}, states
    assert running == []  # the killed worker's runs are closed as abandoned, not left running
    keys = {r.headers["X-Livescreen-Delivery"] for r in d.hook.received}
    assert len(keys) == 1  # any repeat carries the same idempotency key
    assert all(json.loads(r.body)["record"]["pmid"] == "42000001" for r in d.hook.received)


def delivered_by_a_later_pass(d: Deployment) -> bool:
    """One pass of delivery, as beat's minute entry runs it: the dead worker's lease must
    lapse before the delivery is sent again."""
    deliver_step(d.runtime, None)
    query = select(func.count()).select_from(Delivery).where(Delivery.state == "delivered")
    return d.count(query) == 1


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_a_worker_killed_in_the_sweep_has_its_chain_completed_by_another(
    deployment: Deployment,
) -> None:
    d = deployment
    d.fake.delay_next("efetch", 8)  # the sweep will sit in efetch
    first = d.worker("first")
    try:
        d.send_pipeline()
        wait_until(
            lambda: d.count(select(func.count()).select_from(Sweep)) > 0,
            60,
            "the sweep to start",
        )
        time.sleep(1.5)  # esearch is answered at once: now inside the delayed efetch
        kill(first)
        assert "sweep" not in d.succeeded_steps()
        second = d.worker("second")
        try:
            wait_until(lambda: d.succeeded_steps() == STEPS, 90, "the chain to complete")
            wait_until(lambda: len(d.hook.received) >= 1, 30, "the webhook")
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            kill(first)
    assert_as_if_never_killed(d)
    assert len(d.hook.received) == 1


def test_a_worker_killed_while_delivering_has_the_delivery_sent_once_more_with_its_key(
    deployment: Deployment,
) -> None:
    d = deployment
    d.hook.answer(HANG)  # the first request is held open: the worker dies mid-send
    first = d.worker("first")
    try:
        d.send_pipeline()
        wait_until(lambda: len(d.hook.received) == 1, 90, "the first delivery attempt")
        kill(first)
        d.hook.release.set()
        second = d.worker("second")
        try:
            wait_until(lambda: d.succeeded_steps() == STEPS, 90, "the chain to complete")
            wait_until(lambda: delivered_by_a_later_pass(d), 60, "the lease to lapse")
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            kill(first)
    assert_as_if_never_killed(d)
    assert len(d.hook.received) == 2  # at least once over HTTP, one key: receivers drop repeats


BACKLOG = 6000
WORDS = [
    *("anxiety", "mood", "sleep", "cognition", "randomised", "survey", "cohort"),
    *("creativity", "attention", "memory", "depression", "pain", "adults", "nurses"),
    *("pilots", "students", "caffeine", "exercise", "mindfulness", "reading"),
]


def add_backlog(d: Deployment) -> None:
    """Stored, unscreened records of the review (no sweep: no alerts) and two decisions."""
    rng = random.Random(7)
    records = [
        Parsed(
            pmid=str(43000000 + i),
            title=" ".join(rng.choices(WORDS, k=8)),
            abstract=" ".join(rng.choices(WORDS, k=60)),
            year=2020,
            authors=["Doe J"],
        )
        for i in range(BACKLOG)
    ]
    with d.runtime.sessions() as session:
        for start in range(0, BACKLOG, 1000):
            chunk = records[start : start + 1000]
            store_records(session=session, records=chunk, review_id=d.review_id, sweep_id=None)
        user, _ = create_user(session=session, name="ann", role="reviewer")
        first, second = session.exec(select(Record.id).order_by(Record.id).limit(2)).all()
        for record_id, decision in ((first, "include"), (second, "exclude")):
            session.add(
                Decision(
                    review_id=d.review_id,
                    record_id=record_id,
                    user_id=user.id,
                    decision=decision,
                    reasons=[],
                )
            )
        session.commit()


def kill_inside(
    d: Deployment, step: str, task: str = "livescreen.pipeline", steps: set[str] = STEPS
) -> None:
    """Send ``task``, kill its worker half a second into ``step``, let another worker finish."""
    first = d.worker("first")
    try:
        d.send_pipeline(task)
        wait_until(lambda: d.running(step), 120, f"the {step} step to start")
        time.sleep(0.5)  # the step takes seconds on the backlog
        kill(first)
        assert step not in d.succeeded_steps()  # killed in the middle, not after the end
        second = d.worker("second")
        try:
            wait_until(lambda: d.succeeded_steps() == steps, 180, "the work to complete")
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            kill(first)


def screened_once(d: Deployment) -> int:
    """How many records have a screening, asserting that none has two."""
    with d.runtime.sessions() as session:
        rows, records = session.exec(
            select(func.count(), func.count(func.distinct(Screening.record_id)))
        ).one()
    assert rows == records
    return int(records)


# The backlog makes these the slow ones: they run on PostgreSQL, the Celery deployment's store.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_while_screening_has_the_rest_screened_once_by_another(
    deployment: Deployment,
) -> None:
    """The screen task is the chain's repair step (a sweep screens what it stores): here it
    has a backlog of its own, and is killed with part of it committed."""
    add_backlog(deployment)
    kill_inside(deployment, "screen", "livescreen.screen_review", {"screen"})
    assert screened_once(deployment) == BACKLOG
    assert not deployment.running("screen")  # the killed run is closed as abandoned


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_while_ranking_has_the_queue_ranked_by_another(
    deployment: Deployment,
) -> None:
    add_backlog(deployment)
    kill_inside(deployment, "rank")
    wait_until(lambda: len(deployment.hook.received) >= 1, 30, "the webhook")
    assert_as_if_never_killed(deployment, records=BACKLOG + 2)
    assert len(deployment.hook.received) == 1
    assert screened_once(deployment) == BACKLOG + 2
    with deployment.runtime.sessions() as session:
        versions = set(session.exec(select(ReviewRecord.ranked_by)))
    assert len(versions) == 1 and None not in versions  # one model ordered the whole queue
    assert versions != {"rules"}  # after a human include, the learned model does
