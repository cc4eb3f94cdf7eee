"""Named classifiers for ranking, each a scikit-learn estimator built from data.

Why a registry of names: a learning run is stored as ``{"model": name, "params": ...}``
so any ranking can be rebuilt and traced. Every model scores all records with
``score(estimator, X)`` as a number in [0, 1] where higher means "more likely an
include"; for the SVM this is a logistic squashing of the margin unless
``calibrate`` asks for Platt scaling (slower, needs a few labels of each class).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.svm import LinearSVC

Factory = Callable[[dict[str, Any], int], ClassifierMixin]


def _logistic(params: dict[str, Any], seed: int) -> ClassifierMixin:
    return LogisticRegression(
        C=float(params.get("C", 10.0)),
        solver=str(params.get("solver", "liblinear")),
        max_iter=int(params.get("max_iter", 200)),
        random_state=seed,
    )


def _svm(params: dict[str, Any], seed: int) -> ClassifierMixin:
    svm = LinearSVC(C=float(params.get("C", 0.5)), random_state=seed)
    if params.get("calibrate"):
        return CalibratedClassifierCV(svm, method="sigmoid", cv=int(params.get("cv", 3)))
    return svm


class WeightedNB(BaseEstimator, ClassifierMixin):
    """Multinomial Naive Bayes on TF-IDF weights, written for many cheap refits.

    Why not scikit-learn's: its input checks cost more than the fit itself when the
    queue retrains after every decision. A fit is two sparse weighted column sums
    (O(non-zeros of the labelled rows)) and a log over the vocabulary; scoring is one
    sparse product. ``alpha`` is the additive smoothing.
    """

    def __init__(self, alpha: float = 3.822) -> None:
        self.alpha = alpha

    def fit(
        self, X: sp.csr_matrix, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> WeightedNB:
        y = np.asarray(y)
        weights = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        per_class = np.stack([weights * (y == 0), weights * (y == 1)], axis=1)
        sums = np.asarray(X.T @ per_class, dtype=np.float64).T  # one pass over the rows
        smoothed = sums + self.alpha
        log_prob = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))
        class_weight = np.array([weights[y == 0].sum(), weights[y == 1].sum()])
        self.classes_ = np.array([0, 1])
        self.log_odds_ = log_prob[1] - log_prob[0]
        self.prior_log_odds_ = float(np.log(class_weight[1] / class_weight[0]))
        return self

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.log_odds_, dtype=np.float64).ravel() + self.prior_log_odds_


def _nb(params: dict[str, Any], seed: int) -> ClassifierMixin:
    if params.get("complement"):
        return ComplementNB(alpha=float(params.get("alpha", 1.0)))
    if params.get("sklearn"):
        return MultinomialNB(alpha=float(params.get("alpha", 3.822)))
    return WeightedNB(alpha=float(params.get("alpha", 3.822)))


def _sgd(params: dict[str, Any], seed: int) -> ClassifierMixin:
    return SGDClassifier(
        loss=str(params.get("loss", "log_loss")),
        alpha=float(params.get("alpha", 1e-4)),
        max_iter=int(params.get("max_iter", 30)),
        tol=None,
        random_state=seed,
    )


class Ensemble(BaseEstimator, ClassifierMixin):
    """Several named models voting by standardised margins.

    Why: an SVM and Naive Bayes err on different records (the SVM trusts a few sharp
    terms, NB the sum of many weak ones), so the average of their margins, each
    centred and scaled over all records, ranks more robustly than either. ``members``
    is a list of ``{"name", "params", "weight"}`` like a run's model spec.
    """

    def __init__(self, members: list[dict[str, Any]] | None = None, seed: int = 0) -> None:
        self.members = members
        self.seed = seed

    def fit(
        self, X: sp.csr_matrix, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> Ensemble:
        members = self.members or DEFAULT_ENSEMBLE
        self.estimators_ = [
            fit_model(make_model(m["name"], m.get("params"), self.seed), X, y, sample_weight)
            for m in members
        ]
        self.weights_ = [float(m.get("weight", 1.0)) for m in members]
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        total = np.zeros(X.shape[0])
        for estimator, weight in zip(self.estimators_, self.weights_, strict=True):
            margin = margin_of(estimator, X)
            spread = float(margin.std()) or 1.0
            total += weight * (margin - margin.mean()) / spread
        return total / sum(self.weights_)


DEFAULT_ENSEMBLE: list[dict[str, Any]] = [
    {"name": "svm", "params": {"C": 0.11}, "weight": 1.0},
    {"name": "nb", "params": {"alpha": 3.822}, "weight": 1.0},
]


def _ensemble(params: dict[str, Any], seed: int) -> ClassifierMixin:
    members = params.get("members")
    return Ensemble(members=[dict(m) for m in members] if members else None, seed=seed)


MODELS: Mapping[str, Factory] = {
    "logistic": _logistic,
    "svm": _svm,
    "nb": _nb,
    "sgd": _sgd,
    "ensemble": _ensemble,
}


def make_model(
    name: str, params: Mapping[str, Any] | None = None, seed: int = 0
) -> ClassifierMixin:
    """Build the named classifier; an unknown name is a one-line ``ValueError``."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown ranking model {name!r}; known: {', '.join(MODELS)}") from None
    return factory(dict(params or {}), seed)


def fit_model(
    estimator: ClassifierMixin,
    X: sp.csr_matrix,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
) -> ClassifierMixin:
    """Fit on the training rows (features are non-negative, as Naive Bayes needs).

    The rows come from :func:`~classifiers.ranking.features.build_features` (finite
    by construction) and the parameters from a validated spec, so scikit-learn's
    per-fit finiteness scan and parameter validation are skipped: in a replay that
    refits after every label they cost about as much as a small fit itself.
    """
    with config_context(assume_finite=True, skip_parameter_validation=True):
        estimator.fit(X, y, sample_weight=sample_weight)
    return estimator


def _linear_margin(estimator: Any, X: sp.csr_matrix) -> np.ndarray | None:
    """``X @ coef + intercept`` for a fitted binary linear model, else None.

    Why not ``decision_function``: its input checks re-sort and up-cast the whole
    matrix on every call, which costs more than the product when a replay scores
    every record after each label. The product runs in the matrix's own dtype.
    """
    coef = getattr(estimator, "coef_", None)
    if coef is None or np.ndim(coef) != 2 or coef.shape[0] != 1 or coef.shape[1] != X.shape[1]:
        return None
    if list(getattr(estimator, "classes_", [])) != [0, 1]:
        return None
    weights = np.asarray(coef[0], dtype=X.dtype)
    intercept = float(np.ravel(getattr(estimator, "intercept_", [0.0]))[0])
    return np.asarray(X @ weights, dtype=np.float64).ravel() + intercept


def margin_of(estimator: Any, X: sp.csr_matrix) -> np.ndarray:
    """The model's raw margin per row (higher = more likely include)."""
    margin = _linear_margin(estimator, X)
    if margin is None:
        margin = np.asarray(estimator.decision_function(X), dtype=np.float64).ravel()
    return margin


def score(estimator: Any, X: sp.csr_matrix) -> np.ndarray:
    """Scores in [0, 1], higher = more likely include, one per row of ``X``.

    Linear models without calibrated probabilities give a logistic squashing of the
    margin (monotone, so the ranking is the margin's).
    """
    margin = _linear_margin(estimator, X)  # logistic models: the same as predict_proba
    if margin is not None:
        return np.asarray(expit(margin), dtype=np.float64)
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        column = list(estimator.classes_).index(1)
        return np.asarray(proba[:, column], dtype=np.float64)
    margin = np.asarray(estimator.decision_function(X), dtype=np.float64)
    return np.asarray(expit(margin), dtype=np.float64)
