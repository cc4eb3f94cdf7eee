"""The named models: fast linear scoring agrees with scikit-learn, the ensemble votes."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.ranking.features import RecordText, build_features
from classifiers.ranking.models import Ensemble, fit_model, make_model, margin_of, score


def data() -> tuple[object, np.ndarray]:
    rng = np.random.default_rng(3)
    words = ["trial", "dose", "mood", "steel", "bridge", "survey", "placebo", "rust"]
    rows, labels = [], []
    for i in range(60):
        include = i % 4 == 0
        pool = words[:3] + words[6:7] if include else words[3:6] + words[7:]
        text = " ".join(rng.choice(pool, 6)) + " " + " ".join(rng.choice(words, 2))
        rows.append(RecordText(title=text, abstract=f"record {i}"))
        labels.append(int(include))
    return build_features(rows), np.array(labels)


@pytest.mark.parametrize("name", ["svm", "logistic", "sgd"])
def test_fast_linear_scores_rank_as_scikit_learn_does(name: str) -> None:
    X, y = data()
    model = fit_model(make_model(name, {}, 0), X[:30], y[:30], None)  # type: ignore[index]
    expected = model.decision_function(X)
    np.testing.assert_allclose(margin_of(model, X), expected, rtol=1e-4, atol=1e-5)
    got = score(model, X)
    assert ((got >= 0) & (got <= 1)).all()
    assert (np.argsort(-got[y == 1]) == np.argsort(-expected[y == 1])).all()


def test_the_ensemble_averages_standardised_margins_of_its_members() -> None:
    X, y = data()
    members = [{"name": "svm", "params": {"C": 0.5}}, {"name": "nb", "params": {}, "weight": 2}]
    ensemble = fit_model(Ensemble(members), X[:30], y[:30], None)  # type: ignore[index]
    parts = [margin_of(e, X) for e in ensemble.estimators_]
    z = [(m - m.mean()) / m.std() for m in parts]
    np.testing.assert_allclose(ensemble.decision_function(X), (z[0] + 2 * z[1]) / 3)
    assert score(ensemble, X)[y == 1].mean() > score(ensemble, X)[y == 0].mean()


def test_an_unknown_member_is_the_usual_error() -> None:
    X, y = data()
    with pytest.raises(ValueError, match="unknown ranking model 'forest'"):
        Ensemble([{"name": "forest"}]).fit(X, y)
