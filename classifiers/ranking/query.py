"""Query strategies: the order in which unlabelled records go to reviewers.

``max`` puts the most likely includes first (what screening prioritisation wants);
``uncertainty_share`` mixes in records whose score is closest to the decision
boundary, which teaches the model faster on topics where its first guesses are
narrow, at a small cost in includes found early. The mix is seeded.
"""

from __future__ import annotations

import numpy as np


def rank_unlabelled(
    scores: np.ndarray,
    unlabelled: np.ndarray,
    *,
    uncertainty_share: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Indices of the unlabelled records, best first.

    ``scores`` covers every record; ``unlabelled`` holds indices. Ties keep input
    order (stable sort), so an untrained or constant scorer gives the input order.
    """
    if not 0.0 <= uncertainty_share <= 1.0:
        raise ValueError(f"uncertainty_share must be in [0, 1], got {uncertainty_share}")
    unlabelled = np.asarray(unlabelled, dtype=np.int64)
    by_score = unlabelled[np.argsort(-scores[unlabelled], kind="stable")]
    if uncertainty_share == 0.0 or len(unlabelled) < 2:
        return by_score
    rng = rng or np.random.default_rng(0)
    by_doubt = unlabelled[np.argsort(np.abs(scores[unlabelled] - 0.5), kind="stable")]
    picks_doubt = rng.random(len(unlabelled)) < uncertainty_share
    taken = np.zeros(len(scores), dtype=bool)
    order: list[int] = []
    i = j = 0
    for doubt in picks_doubt:
        source, pos = (by_doubt, j) if doubt else (by_score, i)
        while taken[source[pos]]:
            pos += 1
        order.append(int(source[pos]))
        taken[source[pos]] = True
        if doubt:
            j = pos + 1
        else:
            i = pos + 1
    return np.asarray(order, dtype=np.int64)
