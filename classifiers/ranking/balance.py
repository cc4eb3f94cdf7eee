"""Balancing for rare includes: which labelled rows train the model, with what weight.

Why: includes are often 1-5% of records, so an unweighted linear model learns
"everything is an exclude" and its ranking among the top is poor. Each strategy
returns the training rows (indices into the labelled set) and sample weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Balancer = Callable[
    [np.ndarray, dict[str, Any], np.random.Generator], tuple[np.ndarray, np.ndarray]
]


def _none(
    y: np.ndarray, params: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(len(y)), np.ones(len(y))


def _balanced(
    y: np.ndarray, params: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Weight classes so includes carry ``ratio`` times the total weight of excludes."""
    n_inc = int((y == 1).sum())
    n_exc = len(y) - n_inc
    weights = np.ones(len(y))
    if n_inc and n_exc:
        ratio = float(params.get("ratio", 1.0))
        weights[y == 1] = ratio * n_exc / n_inc
    weights *= len(y) / weights.sum()
    return np.arange(len(y)), weights


def _undersample(
    y: np.ndarray, params: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Keep every include and at most ``ratio`` excludes per include (seeded choice)."""
    includes = np.flatnonzero(y == 1)
    excludes = np.flatnonzero(y != 1)
    keep = max(1, int(float(params.get("ratio", 10.0)) * max(1, len(includes))))
    if len(excludes) > keep:
        excludes = np.sort(rng.choice(excludes, size=keep, replace=False))
    rows = np.concatenate([includes, excludes])
    return rows, np.ones(len(rows))


BALANCERS: Mapping[str, Balancer] = {
    "none": _none,
    "balanced": _balanced,
    "undersample": _undersample,
}


def balance(
    name: str, y: np.ndarray, params: Mapping[str, Any] | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows and weights for labels ``y`` under the named strategy."""
    try:
        strategy = BALANCERS[name]
    except KeyError:
        raise ValueError(
            f"unknown balancing strategy {name!r}; known: {', '.join(BALANCERS)}"
        ) from None
    return strategy(np.asarray(y), dict(params or {}), rng)
