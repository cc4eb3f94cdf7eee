"""Feature rows: text, keywords and the rules' columns, in input order."""

from __future__ import annotations

import pytest

from classifiers.ranking.features import FeatureSpec, RecordText, build_features


def test_keywords_are_whole_terms_and_rows_follow_input_order() -> None:
    rows = [
        RecordText(title="Mood after microdosing", keywords=("Depression, Postpartum",)),
        RecordText(title="Steel bridges", abstract="corrosion"),
    ]
    X = build_features(rows)
    assert X.shape[0] == 2
    with_keyword = build_features(rows, FeatureSpec(keyword_weight=0.0))
    assert X.shape[1] == with_keyword.shape[1] + 1  # one column for the whole MeSH term
    assert (X.data >= 0).all()


def test_character_ngrams_add_columns() -> None:
    rows = [RecordText(title="psilocybin"), RecordText(title="psilocin")]
    plain = build_features(rows)
    chars = build_features(rows, FeatureSpec(char_ngrams=(3, 4)))
    assert chars.shape[1] > plain.shape[1]


def test_unusable_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no records"):
        build_features([])
    with pytest.raises(ValueError, match="no record has a title or an abstract"):
        build_features([RecordText(), RecordText()])
    with pytest.raises(ValueError, match="non-negative"):
        build_features([RecordText(title="mood trial", extra={"x": -1.0})])
    with pytest.raises(ValueError, match="no record has a word"):
        build_features([RecordText(title="a b"), RecordText(title="c")])
