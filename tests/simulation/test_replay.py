"""The replay loop on a real dataset: the batch rule, determinism and priors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.ranking.features import build_features
from classifiers.simulate import RetrainRule, choose_priors, simulate
from services.simulation.datasets import read_csv_dataset


@pytest.fixture(scope="module")
def sep(shared_data: Path):  # 271 records, 40 includes
    dataset = read_csv_dataset(shared_data / "synergy-fiobyr/Sep_2021.csv")
    return build_features(dataset.records), np.asarray(dataset.labels)


def test_retrain_rule_every_record_at_first_then_batches_growing_with_the_labels() -> None:
    rule = RetrainRule()
    assert rule.batch(10, 300) == 1 and rule.batch(49, 10_000) == 1
    assert rule.batch(150, 300) == 3
    assert rule.batch(3000, 10_000) == 60
    assert RetrainRule(every_record_upto=1000).batch(500, 1000) == 1


def test_same_seed_same_order_other_seed_other_priors(sep) -> None:
    X, y = sep
    a = simulate(X, y, priors=choose_priors(y, 1, 1, 0))
    b = simulate(X, y, priors=choose_priors(y, 1, 1, 0))
    c = simulate(X, y, priors=choose_priors(y, 1, 1, 1))
    assert a.order == b.order and a.order[:2] != c.order[:2]
    assert sorted(a.order) == list(range(len(y)))


def test_retraining_after_every_record_stops_once_all_includes_are_found(sep) -> None:
    X, y = sep
    every = RetrainRule(every_record_upto=len(y))
    result = simulate(X, y, priors=choose_priors(y, 1, 1, 0), rule=every)
    last_include = max(i for i, v in enumerate(result.labels) if v)
    assert result.retrains == last_include + 1 - result.n_priors + 1
    assert result.measures["wss@100"] == pytest.approx((len(y) - last_include - 1) / len(y))


def test_a_large_batch_rule_retrains_less(sep) -> None:
    X, y = sep
    priors = choose_priors(y, 1, 1, 0)
    every = simulate(X, y, priors=priors, rule=RetrainRule(every_record_upto=len(y)))
    batched = simulate(X, y, priors=priors)
    assert batched.retrains < every.retrains
    assert sorted(batched.order) == list(range(len(y)))
