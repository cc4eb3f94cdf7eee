"""Offline replay of a labelled dataset through the same learning cycle as the queue.

Start from seeded random priors (some includes, some excludes), then repeatedly
retrain with :func:`classifiers.ranking.cycle.run_cycle`, "screen" the top-ranked
records, and reveal their labels. One batch rule for every size: retrain after
``max(1, floor(growth * labelled))`` records, i.e. after every record while fewer than
``1 / growth`` are labelled (50 with the default growth of 0.02), then after batches
that grow with the labels (2% of them), so the number of retrains grows only
logarithmically with the records screened. Measured on the 26 shared datasets (seeds
0 and 1), the same model replayed this way matched ASReview's replay after every record
(mean WSS@95 0.5235 against 0.524, no dataset more than 0.01 below), while a growth of
0.05 lost 0.006 of mean WSS@95; on 1,000+ records it needs a fifth of the retrains.
``every_record_upto`` keeps sets of at most that many records on one retrain per
record (0 by default: none).

The stopping rule is replayed after every record while the dataset has fewer than
100 includes and after every ``includes // 50`` records beyond that (its cost per
check grows with the includes found); checking less often can only stop later.

Once every include has been found (known only in simulation), no later choice can
change any measure or the stopping point (all remaining labels are 0), so the rest
is appended in the last model's order instead of being replayed one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from classifiers import metrics
from classifiers.ranking.cycle import CycleSpec, run_cycle
from classifiers.ranking.stopping import first_stop

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RetrainRule:
    """When to retrain during a replay (see the module docstring)."""

    every_record_upto: int = 0
    growth: float = 0.02

    def batch(self, labelled: int, total: int) -> int:
        if total <= self.every_record_upto:
            return 1
        return max(1, int(self.growth * labelled))


@dataclass(slots=True)
class SimulationResult:
    """A replay: the order (row indices, priors first) and its measures."""

    order: list[int]
    labels: list[int]
    n_priors: int
    retrains: int
    stop_at: int | None
    stop_recall: float | None
    measures: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    spec: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        total = len(self.order)
        return {
            "records": total,
            "includes": int(sum(self.labels)),
            "priors": self.n_priors,
            "retrains": self.retrains,
            **self.measures,
            "stop": {
                "screened": self.stop_at,
                "recall": self.stop_recall,
                "work_saved": metrics.work_saved(total, self.stop_at)
                if self.stop_at is not None
                else None,
            },
            "model_version": self.model_version,
            "spec": self.spec,
        }


def choose_priors(labels: np.ndarray, n_included: int, n_excluded: int, seed: int) -> list[int]:
    """Seeded random prior records: includes first, then excludes."""
    includes = np.flatnonzero(labels == 1)
    excludes = np.flatnonzero(labels == 0)
    if n_included < 0 or n_excluded < 0:
        raise ValueError("prior counts cannot be negative")
    if n_included > len(includes) or n_excluded > len(excludes):
        raise ValueError(
            f"asked for {n_included} prior includes and {n_excluded} prior excludes but the "
            f"dataset has {len(includes)} and {len(excludes)}"
        )
    rng = np.random.default_rng(seed)
    return [int(i) for i in rng.choice(includes, n_included, replace=False)] + [
        int(i) for i in rng.choice(excludes, n_excluded, replace=False)
    ]


def simulate(
    features: sp.csr_matrix,
    labels: Sequence[int] | np.ndarray,
    *,
    priors: Sequence[int],
    spec: CycleSpec | None = None,
    rule: RetrainRule | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Replay ``labels`` from ``priors`` and return the order and its measures."""
    spec = spec or CycleSpec()
    rule = rule or RetrainRule()
    y = np.asarray(labels, dtype=np.int64)
    n = len(y)
    if features.shape[0] != n:
        raise ValueError(f"{features.shape[0]} feature rows for {n} labels")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    total_includes = int(y.sum())
    if total_includes == 0:
        raise ValueError("the dataset has no includes to find")
    order = [int(i) for i in priors]
    if len(set(order)) != len(order):
        raise ValueError("a prior record is given twice")
    found = int(y[order].sum()) if order else 0
    retrains = 0
    version = "rules"
    remaining_order: np.ndarray = np.array([], dtype=np.int64)
    while len(order) < n:
        result = run_cycle(features, order, y[order], spec)
        retrains += 1
        version = result.model_version
        if found == total_includes:
            remaining_order = result.order
            break
        take = result.order[: rule.batch(len(order), n)]
        order.extend(int(i) for i in take)
        found += int(y[take].sum())
        if progress:
            progress(len(order), n)
    order.extend(int(i) for i in remaining_order)
    if progress:
        progress(n, n)
    screened = y[order]
    stop = first_stop(screened, n, start=len(priors), every=max(1, total_includes // 50))
    stop_recall = float(screened[:stop].sum() / total_includes) if stop else None
    return SimulationResult(
        order=order,
        labels=[int(v) for v in screened],
        n_priors=len(priors),
        retrains=retrains,
        stop_at=stop,
        stop_recall=stop_recall,
        measures=metrics.summary(screened),
        model_version=version,
        spec=spec.to_data(),
    )
