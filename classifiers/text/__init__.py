"""Text helpers shared by the criteria: which fields to read, where sentences are, and
where a vocabulary's terms occur.

Offsets are always into the field's text exactly as given, so evidence can be
highlighted in the original record without re-normalising it. The package is split
by job: ``fields`` (reading a record's text), ``sentences`` (boundaries and sections),
``anchors`` (the literal starts of a term), ``scanner`` (one multi-pattern pass per
field), ``vocabulary`` (compiling terms), ``doc`` (a record's hits), ``cues`` (shared
English cue lists). This module re-exports the names callers have always used.
"""

from __future__ import annotations

from classifiers.text.cues import BACKGROUND_CUES, FUTURE_CUES
from classifiers.text.doc import Doc, Hit, Sentence, doc_for, evidence_list
from classifiers.text.fields import list_field, lower_text, text_fields
from classifiers.text.sentences import (
    _BOUNDARY,
    _SPLIT,
    ABBREVIATIONS,
    is_abbreviation,
    sentence_spans,
)
from classifiers.text.vocabulary import _compile_terms, _join, compile_terms, lower_regex
from classifiers.types import TEXT_FIELDS, Evidence

__all__ = [
    "ABBREVIATIONS",
    "BACKGROUND_CUES",
    "FUTURE_CUES",
    "TEXT_FIELDS",
    "Doc",
    "Evidence",
    "Hit",
    "Sentence",
    "_BOUNDARY",
    "_SPLIT",
    "_compile_terms",
    "_join",
    "compile_terms",
    "doc_for",
    "evidence_list",
    "is_abbreviation",
    "list_field",
    "lower_regex",
    "lower_text",
    "sentence_spans",
    "text_fields",
]
