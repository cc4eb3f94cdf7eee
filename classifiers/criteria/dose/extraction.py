"""Extraction: the substances, phrases and doses a record's title and abstract contain.

The dose grammar itself (numbers, ranges, lists, units including per-kilogram and
per-70-kg) lives in ``classifiers.criteria.dose_units``; this module runs it and the
one-pass vocabulary scan over every field and files what they find as plain facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from classifiers.criteria.dose.config import MARKER_PARAMS, PARAM_CATEGORY
from classifiers.criteria.dose.facts import Arm, Marker, Mention, Sentences
from classifiers.criteria.dose_units import DoseMention, Vocabulary, find_doses


def scan_texts(
    texts: Mapping[str, str], low: Mapping[str, str], vocabulary: Vocabulary
) -> tuple[list[Mention], dict[str, list[Marker]]]:
    """Substance mentions and vocabulary markers of every field, each list in text order."""
    mentions: list[Mention] = []
    markers: dict[str, list[Marker]] = {k: [] for k in MARKER_PARAMS}
    for name, text in texts.items():
        for key, start, end in vocabulary.scan(text, low[name]):
            category = PARAM_CATEGORY.get(key)
            if category is None:
                markers[key].append(Marker(name, start, end))
            else:
                mentions.append(Mention(name, start, end, category))
    return mentions, markers


def find_arms(texts: Mapping[str, str], sentences: Sentences) -> list[Arm]:
    """One not-yet-linked arm per dose expression, in field and text order."""
    return [
        Arm(dose, sentences.index(dose.field, dose.start), None)
        for name, text in texts.items()
        for dose in find_doses(text, name)
    ]


def compile_words(terms: Sequence[str]) -> re.Pattern[str]:
    """A case-insensitive whole-word pattern for a small vocabulary read around one dose."""
    body = "|".join(f"(?:{t})" for t in terms) or "(?!x)x"
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.IGNORECASE)


def is_fresh_weight(
    dose: DoseMention, texts: Mapping[str, str], words: Mapping[str, re.Pattern[str]]
) -> bool:
    """Whether a gram amount is a fresh weight: "fresh" or fresh-sold material near it."""
    text = texts[dose.field]
    window = text[max(0, dose.start - 30) : dose.end + 40]
    if words["fresh_terms"].search(window):
        return True
    if words["dried_terms"].search(window):
        return False
    return words["fresh_material_terms"].search(window) is not None
