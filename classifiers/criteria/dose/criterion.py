"""The ``DoseCriterion`` itself: extraction, then linking, then judgement, in that order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classifiers.criteria.dose.config import PSYCHEDELIC, SCANNED_PARAMS, WEIGHT_PARAMS, validated
from classifiers.criteria.dose.extraction import compile_words, find_arms, scan_texts
from classifiers.criteria.dose.facts import Facts, Sentences
from classifiers.criteria.dose.judgement import classify_arms, decide
from classifiers.criteria.dose.linking import link_arms, main_substance, mark_placebo_roles
from classifiers.criteria.dose_units import Vocabulary
from classifiers.text import doc_for
from classifiers.types import CriterionResult


class DoseCriterion:
    """Judges whether the record studies a low dose of the protocol's target substance."""

    kind = "dose"

    def __init__(self, name: str = "low_dose", **params: Any) -> None:
        self.name = name
        self.params = validated(params)
        self._vocabulary = Vocabulary({k: self.params[k] for k in SCANNED_PARAMS})
        self._weight_words = {k: compile_words(self.params[k]) for k in WEIGHT_PARAMS}
        self._drug_suffixes = tuple(s.lower() for s in self.params["drug_name_suffixes"])

    def evaluate(self, record: Mapping[str, Any]) -> CriterionResult:
        return decide(self.read(record), self.params)

    def read(self, record: Mapping[str, Any]) -> Facts:
        """Everything the verdict is decided from (public so tests can look at the arms)."""
        doc = doc_for(record)
        texts = dict(doc.texts)
        sentences = Sentences(texts)
        mentions, markers = scan_texts(texts, doc.low, self._vocabulary)
        animal = len(markers["animal_terms"]) > len(markers["human_terms"])
        arms = find_arms(texts, sentences)
        if arms:
            link_arms(
                arms, mentions, texts, sentences, main_substance(mentions), self._drug_suffixes
            )
        unscaled = frozenset(
            sentences.index(m.field, m.start) for m in markers["unscaled_route_terms"]
        )
        classify_arms(arms, texts, animal, self.params, self._weight_words, unscaled)
        roles, blockers = markers["placebo_role_terms"], markers["control_terms"]
        mark_placebo_roles(arms, roles, blockers, mentions, texts, sentences)
        return Facts(
            texts=texts,
            sentences=sentences,
            arms=arms,
            mentions=mentions,
            markers=markers,
            animal=animal,
            psychedelic_present=any(m.category in PSYCHEDELIC for m in mentions),
        )
