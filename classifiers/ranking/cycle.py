"""One learning cycle: labels so far in, a ranked queue and a traceable model spec out.

The live queue and ``livescreen simulate`` both call :func:`run_cycle`, so simulation
figures describe production. A cycle is pure: it takes the feature rows of all
records of a review (built once by :mod:`classifiers.ranking.features`), the indices
and labels decided so far, and a :class:`CycleSpec`; it returns scores for every
record, the unlabelled records best first, and the spec as data with a model version
derived from the spec and the training labels, so a ranking can be traced to the
model that made it.

Before the model can learn (no human include yet, or no exclude), the order comes
from the rules' ``p_include`` when given, otherwise input order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from classifiers.ranking.balance import balance
from classifiers.ranking.features import FeatureSpec
from classifiers.ranking.models import fit_model, make_model, score
from classifiers.ranking.query import rank_unlabelled

SPEC_FORMAT = 1


@dataclass(frozen=True, slots=True)
class CycleSpec:
    """The named components of a learning run and their parameters.

    The default (one for every review, not tuned per dataset): a linear SVM (C 0.11)
    on TF-IDF word 1-2 grams (sublinear tf, words in over 95% of records dropped) plus
    keyword/MeSH terms at 0.15 of the text's weight, includes weighted to carry 9.8
    times the excludes' total weight. Measured on the 26 shared datasets against
    Naive Bayes (the earlier default), the SVM found the last includes sooner; keywords
    at full weight helped some Cohen 2006 reviews a lot and hurt others (BetaBlockers,
    OralHypoglycemics) as much, 0.15 kept most of the gain (``benchmarks/``).
    """

    model: str = "svm"
    model_params: Mapping[str, Any] = field(default_factory=lambda: {"C": 0.11})
    balance: str = "balanced"
    balance_params: Mapping[str, Any] = field(default_factory=lambda: {"ratio": 9.8})
    uncertainty_share: float = 0.0
    features: FeatureSpec = field(default_factory=FeatureSpec)
    seed: int = 0

    def to_data(self) -> dict[str, Any]:
        return {
            "format": SPEC_FORMAT,
            "features": {"name": "tfidf", "params": self.features.params()},
            "model": {"name": self.model, "params": dict(self.model_params)},
            "balance": {"name": self.balance, "params": dict(self.balance_params)},
            "query": {"name": "max", "params": {"uncertainty_share": self.uncertainty_share}},
            "seed": self.seed,
        }


@dataclass(slots=True)
class CycleResult:
    """Scores for every record, the unlabelled order, and what produced them."""

    scores: np.ndarray
    order: np.ndarray
    model_version: str
    spec: dict[str, Any]
    learned: bool


def model_version(spec: CycleSpec, labelled: np.ndarray, labels: np.ndarray) -> str:
    """A short stable id for (spec, training data): same inputs, same version."""
    digest = hashlib.sha256(json.dumps(spec.to_data(), sort_keys=True).encode())
    pairs = np.stack([np.asarray(labelled, np.int64), np.asarray(labels, np.int64)], axis=1)
    digest.update(pairs[np.argsort(pairs[:, 0], kind="stable")].tobytes())
    return "rk-" + digest.hexdigest()[:12]


def _check(n: int, labelled: np.ndarray, labels: np.ndarray) -> None:
    if labelled.shape != labels.shape:
        raise ValueError(f"{len(labelled)} labelled indices but {len(labels)} labels")
    if len(labelled) and (labelled.min() < 0 or labelled.max() >= n):
        raise ValueError(f"labelled index out of range for {n} records")
    if len(labelled) and np.bincount(labelled, minlength=n).max() > 1:
        raise ValueError("a record is labelled twice")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be 0 (exclude) or 1 (include)")


def run_cycle(
    features: sp.csr_matrix,
    labelled: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    spec: CycleSpec | None = None,
    *,
    prior_scores: Sequence[float] | np.ndarray | None = None,
) -> CycleResult:
    """Train on the labelled rows and rank the rest.

    ``prior_scores`` (e.g. the rules' ``p_include``, one per record) order the queue
    until there is at least one include and one exclude to learn from.
    """
    spec = spec or CycleSpec()
    n = features.shape[0]
    idx = np.asarray(labelled, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    _check(n, idx, y)
    unlabelled_mask = np.ones(n, dtype=bool)
    unlabelled_mask[idx] = False
    unlabelled = np.flatnonzero(unlabelled_mask)
    version = model_version(spec, idx, y)
    rng = np.random.default_rng([spec.seed, len(idx)])
    if not (y == 1).any() or not (y == 0).any():
        if prior_scores is not None:
            scores = np.asarray(prior_scores, dtype=np.float64)
            if scores.shape != (n,):
                raise ValueError(f"prior_scores has {scores.shape[0]} values for {n} records")
        else:
            scores = np.zeros(n)
        order = rank_unlabelled(scores, unlabelled)
        return CycleResult(scores, order, "rules", spec.to_data(), learned=False)
    rows, weights = balance(spec.balance, y, spec.balance_params, rng)
    estimator = make_model(spec.model, spec.model_params, spec.seed)
    fit_model(estimator, features[idx[rows]], y[rows], weights)
    scores = score(estimator, features)
    order = rank_unlabelled(scores, unlabelled, uncertainty_share=spec.uncertainty_share, rng=rng)
    return CycleResult(scores, order, version, spec.to_data(), learned=True)
