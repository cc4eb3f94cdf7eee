"""Every kind rejects terms that compile alone but not in the vocabulary they join.

Each term of a vocabulary is checked on its own, yet the kinds compile the terms
joined into one (lower-cased) alternation; a fragment that only breaks there must
still be a ``CriterionConfigError`` naming the criterion, parameter and term, not a
raw ``re.error`` from deep inside a constructor.
"""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.criteria import CriterionConfigError, build_criterion


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"name": "ps", "kind": "substance", "terms": ["psilocybin", "(?i)psilocin"]},
            r"^criterion 'ps' \(kind 'substance'\): parameter 'terms': invalid regular "
            r"expression '\(\?i\)psilocin' in a list of terms: global flags not at the start",
        ),
        (
            {"name": "ct", "kind": "design", "comparators": ["(?x)niacin"]},
            r"^criterion 'ct' \(kind 'design'\): parameter 'comparators': .*'\(\?x\)niacin'",
        ),
        (
            {"name": "low", "kind": "dose", "animal_terms": ["mice", "(?i)rats"]},
            r"^criterion 'low' \(kind 'dose'\): parameter 'animal_terms': .*'\(\?i\)rats'",
        ),
        (
            {"name": "low", "kind": "dose", "target_terms": ["(?P<a>psilocybin)"]},
            r"^criterion 'low' \(kind 'dose'\): parameter 'target_terms': .*'\(\?P<a>psilocybin\)'",
        ),
        (
            {"name": "pt", "kind": "publication_type", "title_cues": ["(?s)protocol"]},
            r"^criterion 'pt' \(kind 'publication_type'\): parameter 'title_cues': ",
        ),
    ],
    ids=["substance", "design", "dose-flag", "dose-group", "publication_type"],
)
def test_terms_that_break_once_joined_are_config_errors(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(CriterionConfigError, match=message):
        build_criterion(config)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(CriterionConfigError, match=r"'low'.*parameter 'max_mg': must be finite"):
        build_criterion({"name": "low", "kind": "dose", "max_mg": value})
