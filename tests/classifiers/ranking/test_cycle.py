"""One learning cycle: rules order first, then the model; runs are data and reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.ranking.cycle import CycleSpec, run_cycle
from classifiers.ranking.features import RecordText, build_features, verdict_columns
from classifiers.ranking.models import MODELS
from classifiers.ranking.query import rank_unlabelled

TOPIC = "psilocybin microdosing mood trial"
OTHER = "bridge steel corrosion survey"


def records(n: int = 40) -> tuple[list[RecordText], np.ndarray]:
    rows, labels = [], []
    for i in range(n):
        include = i % 5 == 0
        text = TOPIC if include else OTHER
        rows.append(RecordText(title=f"{text} {i}", abstract=f"{text} results number {i}"))
        labels.append(int(include))
    return rows, np.array(labels)


def test_before_the_first_include_the_rules_p_include_orders() -> None:
    rows, _ = records()
    X = build_features(rows)
    prior = np.linspace(0, 1, len(rows))
    result = run_cycle(X, [3], [0], prior_scores=prior)
    assert not result.learned and result.model_version == "rules"
    assert result.order[0] == len(rows) - 1 and 3 not in result.order


def test_without_prior_scores_input_order_is_kept() -> None:
    rows, _ = records()
    result = run_cycle(build_features(rows), [], [])
    assert list(result.order) == list(range(len(rows)))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_after_an_include_every_model_ranks_the_topic_first(model: str) -> None:
    rows, labels = records()
    X = build_features(rows)
    spec = CycleSpec(model=model, model_params={})
    result = run_cycle(X, [0, 1], labels[[0, 1]], spec)
    assert result.learned
    top = result.order[: int(labels.sum()) - 1]
    assert labels[top].all(), f"{model} put an exclude among the top"
    assert result.spec["model"]["name"] == model


def test_model_version_depends_on_spec_and_labels_only() -> None:
    rows, labels = records()
    X = build_features(rows)
    a = run_cycle(X, [0, 1], labels[[0, 1]])
    b = run_cycle(X, [1, 0], labels[[1, 0]])
    c = run_cycle(X, [0, 1, 2], labels[[0, 1, 2]])
    d = run_cycle(X, [0, 1], labels[[0, 1]], CycleSpec(seed=5))
    assert a.model_version == b.model_version
    assert len({a.model_version, c.model_version, d.model_version}) == 3
    np.testing.assert_array_equal(a.order, b.order)


def test_extra_columns_from_the_rules_are_features() -> None:
    rows, labels = records()
    for row, label in zip(rows, labels, strict=True):
        row.extra = verdict_columns({"substance": "met" if label else "not_met"}, 0.9 * label)
    X_plain = build_features(records()[0])
    X = build_features(rows)
    assert X.shape[1] == X_plain.shape[1] + 3  # =met, =not_met, p_include


def test_bad_labels_are_clear_errors() -> None:
    X = build_features(records()[0])
    with pytest.raises(ValueError, match="labelled twice"):
        run_cycle(X, [1, 1], [0, 1])
    with pytest.raises(ValueError, match="0 \\(exclude\\) or 1"):
        run_cycle(X, [1, 2], [0, 2])
    with pytest.raises(ValueError, match="unknown ranking model 'nope'"):
        run_cycle(X, [0, 1], [1, 0], CycleSpec(model="nope"))


def test_uncertainty_share_mixes_in_doubtful_records_reproducibly() -> None:
    scores = np.array([0.9, 0.05, 0.5, 0.75, 0.45, 0.2])
    everything = np.arange(6)
    assert list(rank_unlabelled(scores, everything)) == [0, 3, 2, 4, 5, 1]
    mixed = rank_unlabelled(scores, everything, uncertainty_share=1.0)
    assert list(mixed) == [2, 4, 3, 5, 0, 1]
    rng = np.random.default_rng(1)
    half = rank_unlabelled(scores, everything, uncertainty_share=0.5, rng=rng)
    again = rank_unlabelled(scores, everything, uncertainty_share=0.5, rng=np.random.default_rng(1))
    assert sorted(half) == list(range(6)) and list(half) == list(again)
