"""Screening-prioritisation measures of one screening order (pure).

All take the labels in screening order (1 include, 0 exclude), priors included,
so the same function scores livescreen and ASReview alike:

* ``recall_curve``: includes found / all includes after each record screened;
* ``wss(r)``: work saved over sampling at recall r = share of records not screened
  when r of the includes are found, minus (1 - r) (what random order would save);
* ``rrf(p)``: relevant records found after screening p% of the records (a share);
* ``atd``: average time to discovery, the mean number of records screened until
  each include is found, as a share of all records (lower is better);
* ``work_saved(n)``: share of records never screened when stopping after n.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _labels(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    y = np.asarray(labels, dtype=np.int64)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("need a non-empty screening order of labels")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (exclude) or 1 (include)")
    if y.sum() == 0:
        raise ValueError("the screening order has no includes")
    return y


def recall_curve(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    """Recall after 1, 2, ..., N records screened."""
    y = _labels(labels)
    return np.cumsum(y) / y.sum()


def screened_for_recall(labels: Sequence[int] | np.ndarray, recall: float) -> int:
    """Records screened until at least ``recall`` of the includes are found."""
    y = _labels(labels)
    needed = max(1, math.ceil(recall * y.sum() - 1e-9))
    return int(np.searchsorted(np.cumsum(y), needed) + 1)


def wss(labels: Sequence[int] | np.ndarray, recall: float = 0.95) -> float:
    """Work saved over sampling at ``recall`` (WSS@95 for 0.95)."""
    y = _labels(labels)
    return (len(y) - screened_for_recall(y, recall)) / len(y) - (1.0 - recall)


def rrf(labels: Sequence[int] | np.ndarray, percent: float = 10.0) -> float:
    """Share of includes found in the first ``percent`` % of records (RRF@10)."""
    y = _labels(labels)
    n = max(1, round(len(y) * percent / 100.0))
    return float(y[:n].sum() / y.sum())


def atd(labels: Sequence[int] | np.ndarray) -> float:
    """Average time to discovery as a share of all records."""
    y = _labels(labels)
    positions = np.flatnonzero(y == 1) + 1
    return float(positions.mean() / len(y))


def work_saved(total: int, screened: int) -> float:
    """Share of records not screened when stopping after ``screened``."""
    if total <= 0 or not 0 <= screened <= total:
        raise ValueError(f"cannot stop after {screened} of {total} records")
    return (total - screened) / total


def summary(labels: Sequence[int] | np.ndarray) -> dict[str, float]:
    """The headline figures of one order, as plain floats."""
    y = _labels(labels)
    return {
        "wss@95": wss(y, 0.95),
        "wss@100": wss(y, 1.0),
        "rrf@10": rrf(y, 10.0),
        "atd": atd(y),
    }
