"""When may screening stop? The hypothesis-test rule of Callaghan & Müller-Hansen (2020).

Idea: treat the most recently screened records as if they were a random sample from
the records not yet screened before them (ranking makes the sample *richer* in
includes than random, so the test is conservative). Under the null hypothesis
"recall so far is below the target", at least ``K`` includes must have been in that
urn; if seeing so few includes in the sample would then be unlikely (hypergeometric
lower tail below ``alpha``), reject the null and stop.

Every window that ends at the last screened record is a possible sample. Within a
run of excludes, making the window longer only lowers the p-value, so the windows
worth testing start just after an include (or at the first record): O(includes).

Works per review or per sweep batch: pass the labels of that batch's records in
the order they were screened and the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom


@dataclass(frozen=True, slots=True)
class StoppingState:
    """What the rule says after the screened records seen so far."""

    screened: int
    total: int
    includes_found: int
    estimated_recall: float
    recall_lower_bound: float
    p_value: float
    can_stop: bool
    target_recall: float
    confidence: float


def _windows(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(records screened before each candidate window, includes seen before it)."""
    starts = np.concatenate([[0], np.flatnonzero(labels == 1) + 1])
    starts = starts[starts < len(labels)]
    cumulative = np.concatenate([[0], np.cumsum(labels)])
    return starts, cumulative[starts]


def _min_p(labels: np.ndarray, total: int, includes_total: int) -> float:
    """Smallest p over windows that the urn held ``includes_total`` includes in all."""
    if len(labels) == 0:
        return 1.0
    found = int(labels.sum())
    starts, before = _windows(labels)
    if len(starts) == 0:
        return 1.0
    sample = len(labels) - starts
    urn = total - starts
    urn_includes = includes_total - before
    in_sample = found - before
    p = hypergeom.cdf(in_sample, urn, np.minimum(urn_includes, urn), sample)
    return float(np.min(p))


def _needed(found: int, target_recall: float) -> int:
    """Fewest includes in all that make ``found`` a recall below the target.

    The small epsilon keeps 19 / 0.95 = 20 exact despite floating point.
    """
    return math.floor(found / target_recall + 1e-9) + 1


def p_value(labels: Sequence[int] | np.ndarray, total: int, target_recall: float = 0.95) -> float:
    """p of the null "recall < target" given labels in screening order."""
    y = np.asarray(labels, dtype=np.int64)
    found = int(y.sum())
    needed = _needed(found, target_recall)
    if needed - found > total - len(y):
        return 0.0  # not enough unscreened records left for the null to hold
    return _min_p(y, total, needed)


def stopping_state(
    labels: Sequence[int] | np.ndarray,
    total: int,
    *,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> StoppingState:
    """Estimated recall, its lower confidence bound, and whether screening can stop.

    ``labels`` are the screened records' labels (1 include, 0 exclude) in the order
    they were screened; ``total`` is the number of records (screened or not).
    """
    y = np.asarray(labels, dtype=np.int64)
    if len(y) > total:
        raise ValueError(f"{len(y)} screened records but only {total} in total")
    if not 0 < target_recall <= 1 or not 0 < confidence < 1:
        raise ValueError("target_recall must be in (0, 1] and confidence in (0, 1)")
    alpha = 1.0 - confidence
    found = int(y.sum())
    remaining = total - len(y)
    p = p_value(y, total, target_recall) if remaining else 0.0
    # Lower bound: the largest number of includes the data cannot rule out at alpha.
    lo, hi = found, found + remaining
    while lo < hi:  # p falls as the assumed total rises; find the last K not rejected
        mid = (lo + hi + 1) // 2
        if _min_p(y, total, mid) >= alpha:
            lo = mid
        else:
            hi = mid - 1
    bound = found / lo if lo else (1.0 if remaining == 0 else 0.0)
    # Point estimate: the recent rate of includes, applied to what is left.
    recent = y[-max(1, len(y) // 10) :] if len(y) else y
    rate = (recent.sum() + 0.5) / (len(recent) + 1)
    expected_left = rate * remaining
    estimate = found / (found + expected_left) if found + expected_left > 0 else 0.0
    return StoppingState(
        screened=len(y),
        total=total,
        includes_found=found,
        estimated_recall=float(estimate),
        recall_lower_bound=float(bound),
        p_value=float(p),
        can_stop=bool(remaining == 0 or p < alpha),
        target_recall=target_recall,
        confidence=confidence,
    )


def first_stop(
    labels: Sequence[int] | np.ndarray,
    total: int | None = None,
    *,
    target_recall: float = 0.95,
    confidence: float = 0.95,
    start: int = 1,
    every: int = 1,
    chunk: int = 256,
) -> int | None:
    """The fewest screened records after which the rule says stop, or None.

    Replays the rule after every ``every``-th record of ``labels`` (a full screening
    order; checking less often can only stop later, never earlier). The tests for
    ``chunk`` stopping points go to scipy in one vectorised call, because one call
    per point would dominate a whole simulation's time.
    """
    y = np.asarray(labels, dtype=np.int64)
    total = len(y) if total is None else total
    alpha = 1.0 - confidence
    cumulative = np.concatenate([[0], np.cumsum(y)])
    include_ends = np.flatnonzero(y == 1) + 1  # window starts just after each include
    points = np.arange(max(1, start), len(y) + 1, max(1, every))
    if len(y) and (len(points) == 0 or points[-1] != len(y)):
        points = np.append(points, len(y))
    for first in range(0, len(points), chunk):
        ts = points[first : first + chunk]
        found = cumulative[ts]
        needed = np.floor(found / target_recall + 1e-9).astype(np.int64) + 1
        # Candidate windows per t: start 0 and just after each include before t.
        counts = 1 + np.searchsorted(include_ends, ts, side="left")
        t_rep = np.repeat(ts, counts)
        offsets = np.arange(len(t_rep)) - np.repeat(np.cumsum(counts) - counts, counts)
        starts = np.where(offsets == 0, 0, include_ends[np.maximum(offsets - 1, 0)])
        before = cumulative[starts]
        found_rep = np.repeat(found, counts)
        urn = total - starts
        urn_includes = np.minimum(np.repeat(needed, counts) - before, urn)
        p = hypergeom.cdf(found_rep - before, urn, urn_includes, t_rep - starts)
        p_min = np.minimum.reduceat(p, np.cumsum(counts) - counts)
        impossible = needed - found > total - ts  # the null cannot hold any more
        hit = np.flatnonzero((p_min < alpha) | impossible | (ts == total))
        if len(hit):
            return int(ts[hit[0]])
    return None
