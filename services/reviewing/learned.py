"""The queue learns from its reviewers: retrain on the human decisions, re-rank, and say when
screening could stop.

Before the first human include (and exclude) the rules' ``p_include`` orders the queue;
after, the learned model does, with the rules' verdicts and ``p_include`` among its
features (:mod:`classifiers.ranking`, the same cycle ``livescreen simulate`` replays).
The new order is written in one UPDATE of ``review_records.priority`` in one
transaction, so a reviewer's ``next`` sees the old order or the new one, never a mix,
and never waits on the training, which runs before the write. Each run leaves a
:class:`~services.db.runs.RankingRun` with the model spec and the stopping rule's verdict
(Callaghan & Mueller-Hansen 2020) for the records screened so far.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa
from sqlmodel import Session, col

from classifiers.ranking.cycle import CycleSpec, run_cycle
from classifiers.ranking.features import RecordText, build_features, verdict_columns
from classifiers.ranking.stopping import stopping_state
from services.db.models import Record, Review, ReviewRecord, Screening
from services.db.reviewing import Decision, Resolution
from services.db.runs import RankingRun
from services.reviewing.machine import current_screening_join
from services.reviewing.status import status_columns

RULES = "rules"


@dataclass(frozen=True, slots=True)
class ReviewRows:
    """What the cycle needs of a review's live records, in one order."""

    record_ids: list[int]
    features: sp.csr_matrix | None  # None: no record to rank
    p_include: np.ndarray
    labels: dict[int, int]  # index -> 1 include / 0 exclude, settled records only
    screened_order: list[int]  # labels in the order records were first decided


class FeatureCache:
    """The feature matrix of each review, kept while its records and screenings are unchanged.

    Building TF-IDF features of 20,000 abstracts takes seconds; training on them takes a
    tenth of one. Between sweeps only the labels change, so the matrix is reused, keyed
    by a fingerprint of (record, content version, screening) for every live record.
    One per process (the runtime holds it); safe to share between threads.
    """

    def __init__(self, reviews: int = 8) -> None:
        self._entries: dict[int, tuple[str, sp.csr_matrix]] = {}
        self._reviews = reviews
        self._guard = threading.Lock()

    def get(self, review_id: int, fingerprint: str) -> sp.csr_matrix | None:
        with self._guard:
            hit = self._entries.get(review_id)
        return hit[1] if hit is not None and hit[0] == fingerprint else None

    def put(self, review_id: int, fingerprint: str, features: sp.csr_matrix) -> None:
        with self._guard:
            self._entries.pop(review_id, None)
            self._entries[review_id] = (fingerprint, features)
            while len(self._entries) > self._reviews:
                self._entries.pop(next(iter(self._entries)))


def _live_records(review_id: int, *columns: Any) -> Any:
    """``columns`` of the review's live (not withdrawn) records with their current screening,
    by record id: the one row order the features, priors and labels share."""
    return (
        sa.select(*columns)
        .select_from(ReviewRecord)
        .join(Record, col(Record.id) == col(ReviewRecord.record_id))
        .join(Review, col(Review.id) == col(ReviewRecord.review_id))
        .outerjoin(Screening, current_screening_join(review_id))
        .where(col(ReviewRecord.review_id) == review_id, col(Record.deleted).is_(False))
        .order_by(col(Record.id))
    )


def _keys(session: Session, review_id: int) -> list[Any]:
    """(record id, content hash, screening id, p_include) of the live records, by id: cheap
    columns only, enough to tell whether the cached features still hold."""
    stmt = _live_records(
        review_id, col(Record.id), col(Record.content_hash), col(Screening.id),
        col(Screening.p_include),
    )  # fmt: skip
    return list(session.execute(stmt).all())


def _texts(session: Session, review_id: int, record_ids: list[int]) -> list[RecordText]:
    stmt = _live_records(
        review_id, col(Record.id), col(Record.title), col(Record.abstract), col(Record.data),
        col(Screening.p_include), col(Screening.criteria),
    )  # fmt: skip
    rows = session.execute(stmt).all()
    by_id = {}
    for rid, title, abstract, data, p, criteria in rows:
        data = data or {}
        verdicts = {n: c.get("verdict", "") for n, c in (criteria or {}).items()}
        by_id[rid] = RecordText(
            title=title or "",
            abstract=abstract or "",
            keywords=tuple(data.get("mesh_terms") or ()) + tuple(data.get("keywords") or ()),
            extra=verdict_columns(verdicts, p) if p is not None else {},
        )
    return [by_id[rid] for rid in record_ids]


def _settled(session: Session, review_id: int, required: int) -> list[Any]:
    """(record id, status, first decided at) of the records humans have decided on."""
    agg, res, status = status_columns(review_id, required)
    first = (
        sa.select(col(Decision.record_id), sa.func.min(col(Decision.created_at)).label("at"))
        .where(col(Decision.review_id) == review_id)
        .group_by(col(Decision.record_id))
        .subquery("first_decided")
    )
    resolved_at = (
        sa.select(col(Resolution.record_id), col(Resolution.created_at).label("at"))
        .where(col(Resolution.review_id) == review_id)
        .subquery("resolved_at")
    )
    return list(
        session.execute(
            sa.select(
                col(ReviewRecord.record_id),
                status.label("status"),
                sa.func.coalesce(first.c.at, resolved_at.c.at),
            )
            .select_from(ReviewRecord)
            .outerjoin(agg, agg.c.record_id == col(ReviewRecord.record_id))
            .outerjoin(res, res.c.record_id == col(ReviewRecord.record_id))
            .outerjoin(first, first.c.record_id == col(ReviewRecord.record_id))
            .outerjoin(resolved_at, resolved_at.c.record_id == col(ReviewRecord.record_id))
            .where(
                col(ReviewRecord.review_id) == review_id,
                sa.or_(agg.c.record_id.is_not(None), res.c.record_id.is_not(None)),
            )
        ).all()
    )


def screened_labels(*, session: Session, review_id: int, required: int) -> list[int]:
    """Settled records' labels (1 include, 0 exclude) in the order they were first decided:
    the recall curve's data, without reading any record's text."""
    settled = [
        (at, 1 if state == "included" else 0)
        for _, state, at in _settled(session, review_id, required)
        if state in ("included", "excluded")
    ]
    settled.sort(key=lambda pair: (pair[0] is None, pair[0]))
    return [y for _, y in settled]


def review_rows(
    *,
    session: Session,
    review_id: int,
    required: int,
    spec: CycleSpec | None = None,
    cache: FeatureCache | None = None,
) -> ReviewRows:
    keys = _keys(session, review_id)
    ids = [k[0] for k in keys]
    priors = np.asarray([k[3] if k[3] is not None else -1.0 for k in keys], dtype=np.float64)
    index = {rid: i for i, rid in enumerate(ids)}
    labels: dict[int, int] = {}
    decided: list[tuple[Any, int]] = []
    for rid, state, decided_at in _settled(session, review_id, required):
        if state in ("included", "excluded") and rid in index:
            labels[index[rid]] = 1 if state == "included" else 0
            decided.append((decided_at, labels[index[rid]]))
    decided.sort(key=lambda pair: (pair[0] is None, pair[0]))
    features = None
    if ids and 0 < sum(labels.values()) < len(labels):  # something to learn from
        spec = spec or CycleSpec()
        fingerprint = hashlib.sha256(repr((spec.features.params(), keys)).encode()).hexdigest()
        features = cache.get(review_id, fingerprint) if cache is not None else None
        if features is None:
            features = build_features(_texts(session, review_id, ids), spec.features)
            if cache is not None:
                cache.put(review_id, fingerprint, features)
    return ReviewRows(ids, features, priors, labels, [y for _, y in decided])


def retrain(
    *,
    session: Session,
    review_id: int,
    required: int,
    spec: CycleSpec | None = None,
    cache: FeatureCache | None = None,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> RankingRun:
    """Retrain on the settled records and write the new order; the run's record, committed
    by the caller. With nothing to learn from yet, the rules' order stays (``rules``)."""
    started = time.perf_counter()
    rows = review_rows(
        session=session, review_id=review_id, required=required, spec=spec, cache=cache
    )
    run = RankingRun(review_id=review_id, model_version=RULES, records=len(rows.record_ids))
    run.labelled, run.includes = len(rows.labels), sum(rows.labels.values())
    if rows.screened_order:
        state = stopping_state(
            rows.screened_order,
            max(len(rows.record_ids), len(rows.screened_order)),
            target_recall=target_recall,
            confidence=confidence,
        )
        run.estimated_recall, run.recall_lower_bound = (
            state.estimated_recall,
            state.recall_lower_bound,
        )
        run.can_stop = state.can_stop
    if rows.features is not None:
        labelled = np.fromiter(rows.labels, dtype=np.int64)
        labels = np.fromiter(rows.labels.values(), dtype=np.int64)
        result = run_cycle(
            rows.features,
            labelled,
            labels,
            spec,
            prior_scores=rows.p_include,
        )
        run.model_version, run.learned, run.spec = result.model_version, True, result.spec
        run.reranked = _write_order(
            session, review_id, rows.record_ids, result.scores, run.model_version
        )
    else:
        run.spec = (spec or CycleSpec()).to_data()
        run.reranked = _write_rules_order(session, review_id)
    run.seconds = time.perf_counter() - started
    session.add(run)
    session.flush()
    return run


def _write_order(
    session: Session, review_id: int, record_ids: list[int], scores: np.ndarray, version: str
) -> int:
    """One executemany UPDATE inside the caller's transaction: the order flips at commit."""
    params = [
        {"review": review_id, "record": rid, "priority": float(s), "version": version}
        for rid, s in zip(record_ids, scores, strict=True)
    ]
    stmt = (
        sa.update(ReviewRecord)
        .where(
            col(ReviewRecord.review_id) == sa.bindparam("review"),
            col(ReviewRecord.record_id) == sa.bindparam("record"),
        )
        .values(priority=sa.bindparam("priority"), ranked_by=sa.bindparam("version"))
    )
    session.connection().execute(stmt, params)
    return len(params)


def _write_rules_order(session: Session, review_id: int) -> int:
    """Priority = the current screening's p_include, marked as the rules' order."""
    review = session.get(Review, review_id)
    assert review is not None
    current = (
        sa.select(col(Screening.p_include))
        .join(Record, col(Record.id) == col(Screening.record_id))
        .where(
            col(Screening.review_id) == review_id,
            col(Screening.record_id) == col(ReviewRecord.record_id),
            col(Screening.protocol_version) == review.protocol_version,
            col(Screening.content_hash) == col(Record.content_hash),
        )
        .order_by(col(Screening.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    moved = (
        session.connection()
        .execute(
            sa.update(ReviewRecord)
            .where(
                col(ReviewRecord.review_id) == review_id,
                current.is_not(None),
                sa.or_(
                    col(ReviewRecord.priority) != current,
                    col(ReviewRecord.ranked_by).is_(None),
                    col(ReviewRecord.ranked_by) != RULES,
                ),
            )
            .values(priority=current, ranked_by=RULES)
        )
        .rowcount
    )
    return int(moved or 0)


def latest_run(*, session: Session, review_id: int) -> RankingRun | None:
    return session.execute(
        sa.select(RankingRun)
        .where(col(RankingRun.review_id) == review_id)
        .order_by(col(RankingRun.id).desc())
        .limit(1)
    ).scalar()


def decided_since(*, session: Session, review_id: int, run: RankingRun | None) -> int:
    """Human decisions and resolutions since the run (all of them without one): the debounce."""
    since = run.created_at if run is not None else None
    total = 0
    for table in (Decision, Resolution):
        stmt = (
            sa.select(sa.func.count()).select_from(table).where(col(table.review_id) == review_id)
        )
        if since is not None:
            stmt = stmt.where(col(table.created_at) > since)
        total += int(session.execute(stmt).scalar() or 0)
    return total


def stopping_summary(run: RankingRun | None) -> dict[str, Any]:
    """``estimated_recall``, ``recall_lower_bound``, ``can_stop`` and the model, for status/API."""
    if run is None:
        return {"estimated_recall": None, "recall_lower_bound": None, "can_stop": False,
                "model_version": None}  # fmt: skip
    return {
        "estimated_recall": run.estimated_recall,
        "recall_lower_bound": run.recall_lower_bound,
        "can_stop": run.can_stop,
        "model_version": run.model_version,
    }
