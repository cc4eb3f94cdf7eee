"""The living loop of one review: sweep -> registry -> screen -> rank -> raise alerts -> deliver.

The registry step (a ClinicalTrials.gov sweep) is part of the loop only for a review whose
protocol has a ``[clinicaltrials]`` table (:func:`steps_for`); the others skip it and
record no run of it.

Every mode runs these same step functions: the Celery tasks one per task (a chain),
the embedded scheduler one after the other in-process. Each step re-reads what it
needs from the database, is idempotent (run it twice and nothing changes), and
leaves a :class:`~services.db.runs.StepRun` row with its state, attempt and error,
so a failure is visible and a redelivered task simply runs again.

The alerts step raises alerts for the records of every sweep since its own last
success (its watermark), so a crash between a sweep and its alerts loses nothing:
the next run picks those sweeps up, and the alerts' natural keys make a repeat add
nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.alerts.deliver import deliver_due
from services.alerts.digests import raise_empty_digests
from services.alerts.events import raise_record_alerts
from services.db.models import Review, ReviewRecord, Sweep, utcnow
from services.db.runs import StepRun
from services.locks import ReviewLocked
from services.pipeline.result import SweepResult
from services.pipeline.store import ensure_review
from services.protocols import Protocol
from services.reviewing.status import record_status
from services.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


def review_id_of(runtime: Runtime, slug: str) -> int:
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(slug))
        session.commit()
        assert review.id is not None
        return review.id


@contextmanager
def recorded(runtime: Runtime, review_id: int, step: str, *, attempt: int = 1) -> Iterator[StepRun]:
    """A StepRun row for the block: ``running`` (committed first, so a crash shows), then
    ``succeeded`` with its detail, or ``failed`` with the error, which is re-raised."""
    with runtime.sessions() as session:
        run = StepRun(review_id=review_id, step=step, state="running", attempt=attempt)
        session.add(run)
        session.commit()
        session.refresh(run)
    try:
        yield run
    except BaseException as exc:
        # Another worker sweeping the review is not this run's failure: it is retried.
        run.state = "skipped" if isinstance(exc, ReviewLocked) else "failed"
        run.error = f"{exc.__class__.__name__}: {exc}"[:2000]
        _finish(runtime, run)
        raise
    run.state = "succeeded"
    _finish(runtime, run)


def _finish(runtime: Runtime, run: StepRun) -> None:
    """Close the run; a success also closes the earlier runs of the step left ``running`` by a
    worker that died (its task was redelivered and this run did the work), so status does not
    show a step running forever."""
    with runtime.sessions() as session:
        run.finished_at = utcnow()
        session.merge(run)
        if run.state == "succeeded":
            session.execute(
                sa.update(StepRun)
                .where(
                    col(StepRun.review_id) == run.review_id,
                    col(StepRun.step) == run.step,
                    col(StepRun.state) == "running",
                    col(StepRun.id) < run.id,
                )
                .values(
                    state="abandoned",
                    finished_at=run.finished_at,
                    error="its worker stopped; a later run of the step completed",
                )
            )
        session.commit()


def sweep_step(runtime: Runtime, slug: str, *, attempt: int = 1, full: bool = False) -> SweepResult:
    """Sweep PubMed (screening each stored batch as it goes)."""
    from services.pipeline.jobs import sweep_review

    with recorded(runtime, review_id_of(runtime, slug), "sweep", attempt=attempt) as run:
        result = sweep_review(runtime, slug, full=full)
        run.sweep_id, run.detail = result.sweep_id, result.summary(slug)
        return result


def registry_step(
    runtime: Runtime, slug: str, *, attempt: int = 1, full: bool = False
) -> dict[str, Any] | None:
    """Sweep ClinicalTrials.gov with the protocol's ``[clinicaltrials]`` query (incremental
    from the last succeeded sweep's mark, so a repeat asks again only for what changed and
    stores nothing new); None, with no run recorded, for a protocol without the table.

    Its own lock (not the PubMed sweep's) keeps two registry sweeps of the review apart. A
    screener that cannot be built leaves the registrations for the screen step after it."""
    from services.pipeline.screen import build_screener
    from services.registry.client import ClinicalTrialsClient
    from services.registry.sweep import sweep_registry

    protocol = runtime.protocol(slug)
    if protocol.clinicaltrials is None:
        return None
    with recorded(runtime, review_id_of(runtime, slug), "registry", attempt=attempt) as run:
        try:
            screener = build_screener(protocol)
        except Exception as exc:  # screened by the screen step instead, which reports it
            log.warning("%s: registry sweep stores without screening: %s", slug, exc)
            screener = None
        with (
            runtime.locks.hold(f"registry:{slug}"),
            ClinicalTrialsClient(runtime.settings) as client,
        ):
            report = sweep_registry(
                sessions=runtime.sessions,
                protocol=protocol,
                client=client,
                screener=screener,
                full=full,
            ).to_json()
        run.detail = (
            f"registry sweep {report['sweep_id']}: new {report['new']}, updated "
            f"{report['updated']}, unchanged {report['unchanged']}, bad {report['bad']}; "
            f"screened {report['screened']}, alerts {report['alerts']}, links {report['links']}"
        )
        return report


def screen_step(runtime: Runtime, slug: str, *, attempt: int = 1) -> int:
    """Screen whatever is still unscreened under the current protocol (after a crash, say)."""
    from services.pipeline.jobs import screen_review

    with recorded(runtime, review_id_of(runtime, slug), "screen", attempt=attempt) as run:
        screened = screen_review(runtime, slug)
        run.detail = f"{screened} screened"
        return screened


def rank_step(runtime: Runtime, slug: str, *, attempt: int = 1) -> int:
    """Retrain the queue's order on the human decisions so far and swap it in; how many
    records it ranked. Before the first include the rules' ``p_include`` orders the queue
    (this repairs any priority screening could not set, after a crash between the two)."""
    from services.reviewing.learned import FeatureCache, retrain

    review_id = review_id_of(runtime, slug)
    protocol = runtime.protocol(slug)
    cache = runtime.caches.setdefault("ranking_features", FeatureCache())
    with recorded(runtime, review_id, "rank", attempt=attempt) as run:
        with runtime.sessions() as session:
            ranking = retrain(
                session=session,
                review_id=review_id,
                required=protocol.required_decisions,
                cache=cache,
            )
            session.commit()
        run.detail = (
            f"{ranking.reranked} ranked by {ranking.model_version} from {ranking.labelled} "
            f"decided ({ranking.includes} included) in {ranking.seconds:.2f} s"
        )
        return ranking.reranked


def rerank_if_decided(runtime: Runtime, slug: str, *, every: int = 5) -> int | None:
    """Between sweeps: retrain once ``every`` human decisions (or resolutions) have come in
    since the last ranking (the debounce), else nothing; how many were re-ranked."""
    from services.reviewing.learned import decided_since, latest_run

    review_id = review_id_of(runtime, slug)
    with runtime.sessions() as session:
        last = latest_run(session=session, review_id=review_id)
        waiting = decided_since(session=session, review_id=review_id, run=last)
    if waiting < every and not (last is None and waiting):
        return None
    return rank_step(runtime, slug)


def rerank_all(runtime: Runtime, *, every: int = 5) -> dict[str, int]:
    """Every review's debounced retraining (beat's minute entry; in-process every 30 s)."""
    done: dict[str, int] = {}
    for slug in runtime.protocols:
        try:
            moved = rerank_if_decided(runtime, slug, every=every)
        except Exception as exc:  # recorded on its StepRun; the other reviews go on
            log.error("%s: re-ranking failed: %s", slug, exc)
            continue
        if moved is not None:
            done[slug] = moved
    return done


def alerts_step(runtime: Runtime, slug: str, *, attempt: int = 1) -> int:
    """Raise the alerts of every sweep since this step's last success; how many are new."""
    review_id = review_id_of(runtime, slug)
    protocol = runtime.protocol(slug)
    with recorded(runtime, review_id, "alerts", attempt=attempt) as run:
        with runtime.sessions() as session:
            done = session.execute(
                sa.select(sa.func.max(col(StepRun.sweep_id))).where(
                    col(StepRun.review_id) == review_id,
                    col(StepRun.step) == "alerts",
                    col(StepRun.state) == "succeeded",
                )
            ).scalar()
            latest = session.execute(
                sa.select(sa.func.max(col(Sweep.id))).where(col(Sweep.review_id) == review_id)
            ).scalar()
            if latest is None:
                run.detail = "no sweep yet"
                return 0
            record_ids = list(
                session.execute(
                    sa.select(col(ReviewRecord.record_id)).where(
                        col(ReviewRecord.review_id) == review_id,
                        col(ReviewRecord.last_sweep_id) > (done or 0),
                        col(ReviewRecord.last_sweep_id) <= latest,
                    )
                ).scalars()
            )
            review = session.get(Review, review_id)
            assert review is not None
            raised = 0
            for start in range(0, len(record_ids), 1000):
                raised += raise_record_alerts(
                    session=session,
                    review=review,
                    record_ids=record_ids[start : start + 1000],
                    is_included=_included(session, review_id, protocol.required_decisions),
                    sweep_id=latest,
                )
                session.commit()
            quiet = 0
            if latest > (done or 0) and _succeeded(session, latest):
                quiet = raise_empty_digests(
                    session=session, review_id=review_id, sweep_id=latest, since_sweep_id=done or 0
                )
                session.commit()
        run.sweep_id, run.detail = latest, f"{raised} new alerts from {len(record_ids)} records"
        if quiet:
            run.detail += f"; {quiet} 'nothing new' digest(s)"
        return raised


def _succeeded(session: Session, sweep_id: int) -> bool:
    """Whether the sweep completed (a failed sweep is not "nothing new": it is a failure)."""
    sweep = session.get(Sweep, sweep_id)
    return sweep is not None and sweep.state.startswith("succeeded")


def _included(session: Session, review_id: int, required: int) -> Callable[[int], bool]:
    def included(record_id: int) -> bool:
        status = record_status(
            session=session, review_id=review_id, record_id=record_id, required=required
        )
        return status == "included"

    return included


def deliver_step(runtime: Runtime, slug: str | None = None, *, attempt: int = 1) -> dict[str, Any]:
    """Send the due deliveries (of one review, or all when ``slug`` is None)."""
    review_id = review_id_of(runtime, slug) if slug else None
    if review_id is None:
        report = deliver_due(
            sessions=runtime.sessions, settings=runtime.settings, rng=random.Random()
        )
        return vars(report)
    with recorded(runtime, review_id, "deliver", attempt=attempt) as run:
        report = deliver_due(
            sessions=runtime.sessions,
            settings=runtime.settings,
            review_id=review_id,
            rng=random.Random(),
        )
        run.detail = (
            f"{report.delivered} delivered, {report.retry} to retry, {report.failed} failed"
        )
        return vars(report)


STEP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sweep": sweep_step,
    "registry": registry_step,
    "screen": screen_step,
    "rank": rank_step,
    "alerts": alerts_step,
    "deliver": deliver_step,
}


def steps_for(protocol: Protocol) -> list[str]:
    """The loop's steps for a review, in order: the registry sweep only when its protocol
    has a ``[clinicaltrials]`` table. The Celery chain is built from the same list."""
    return [
        step for step in STEP_FUNCTIONS if step != "registry" or protocol.clinicaltrials is not None
    ]


def run_pipeline(runtime: Runtime, slug: str) -> dict[str, Any]:
    """The whole loop in-process (the embedded default): the review's steps, in order.

    A failed step is recorded and logged, and the later steps still run: records a
    failed sweep did store are screened and alerted on, and due deliveries go out.
    """
    results: dict[str, Any] = {}
    for step in steps_for(runtime.protocol(slug)):
        try:
            results[step] = STEP_FUNCTIONS[step](runtime, slug)
        except Exception as exc:  # recorded on its StepRun; the loop goes on
            log.error("%s: %s step failed: %s", slug, step, exc)
            results[step] = {"error": str(exc)}
    return results


def last_runs(*, session: Session, review_id: int) -> dict[str, StepRun]:
    """The newest run of each step of a review, for status and the dashboard."""
    rows = session.exec(
        select(StepRun)
        .where(StepRun.review_id == review_id)
        .order_by(col(StepRun.id).desc())
        .limit(200)
    )
    out: dict[str, StepRun] = {}
    for row in rows:
        out.setdefault(row.step, row)
    return out
