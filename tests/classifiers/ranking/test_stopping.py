"""The stopping rule on cases whose answer is known by hand or by construction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import hypergeom

from classifiers.ranking.stopping import first_stop, p_value, stopping_state


def test_p_value_matches_a_hand_computed_hypergeometric_tail() -> None:
    # 10 includes found in the first 10 of 100 records, then 50 excludes. Under the null
    # "recall < 95%" at least 11 includes exist; the best window is the 50 excludes,
    # drawn from the 90 records after the includes, of which >= 1 would be an include.
    labels = [1] * 10 + [0] * 50
    expected = hypergeom.cdf(0, 90, 1, 50)
    assert p_value(labels, total=100) == pytest.approx(expected)


def test_six_hundred_excludes_are_not_yet_enough_evidence() -> None:
    # Same start, 600 excludes: p = (370*369)/(970*969) = 0.145, no stop.
    state = stopping_state([1] * 30 + [0] * 600, total=1000)
    assert state.p_value == pytest.approx(370 * 369 / (970 * 969))
    assert not state.can_stop


def test_no_stop_right_after_a_run_of_includes() -> None:
    state = stopping_state([1] * 20, total=1000)
    assert not state.can_stop
    assert state.recall_lower_bound < 0.95


def test_screening_everything_always_allows_stopping() -> None:
    state = stopping_state([1, 0, 0, 1, 0], total=5)
    assert state.can_stop
    assert state.recall_lower_bound == 1.0


def test_a_long_run_of_excludes_after_the_includes_allows_stopping() -> None:
    # Hand check: the null needs 32 includes, so 2 among the 970 records after the
    # includes; 900 excludes drawn from them miss both with p = (70*69)/(970*969).
    labels = [1] * 30 + [0] * 900
    state = stopping_state(labels, total=1000)
    assert state.can_stop
    assert state.p_value == pytest.approx(70 * 69 / (970 * 969))
    assert 0.95 <= state.recall_lower_bound <= 1.0
    assert state.estimated_recall > 0.95


def test_stops_at_or_above_target_in_at_least_95_percent_of_random_orders() -> None:
    """With random (unranked) order the sampling assumption holds exactly."""
    rng = np.random.default_rng(7)
    reached = []
    for _ in range(200):
        labels = np.zeros(400, dtype=int)
        labels[rng.choice(400, 20, replace=False)] = 1
        stop = first_stop(labels)
        assert stop is not None
        reached.append(labels[:stop].sum() / 20 >= 0.95)
    assert np.mean(reached) >= 0.95


def test_checking_less_often_never_stops_earlier() -> None:
    rng = np.random.default_rng(3)
    labels = (rng.random(800) < np.linspace(0.4, 0.0, 800)).astype(int)
    exact = first_stop(labels)
    coarse = first_stop(labels, every=7)
    assert exact is not None and coarse is not None
    assert exact <= coarse < exact + 7 or coarse == len(labels)


def test_vectorised_replay_agrees_with_checking_each_point() -> None:
    rng = np.random.default_rng(11)
    labels = (rng.random(300) < np.linspace(0.5, 0.0, 300)).astype(int)
    one_by_one = next(t for t in range(1, 301) if t == 300 or p_value(labels[:t], 300) < 0.05)
    assert first_stop(labels, chunk=17) == one_by_one


def test_per_batch_use_counts_only_the_batch() -> None:
    # A sweep batch of 200 new records: its own labels, its own total.
    # Null: a 4th include among the 196 after the third; 190 excludes miss it: 6/196.
    batch = [1, 1, 0, 1] + [0] * 190
    state = stopping_state(batch, total=200, target_recall=0.95)
    assert state.total == 200 and state.includes_found == 3
    assert state.p_value == pytest.approx(6 / 196)
    assert state.can_stop


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="only 3 in total"):
        stopping_state([0, 1, 0, 0], total=3)
