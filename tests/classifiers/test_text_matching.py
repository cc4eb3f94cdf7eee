"""The shortcuts of ``classifiers.text`` and ``dose_units`` give what a plain scan gives.

``Doc.find`` tries a vocabulary only where one of its terms can start (the literal
anchors found by one multi-pattern pass, or the scan of its unanchored terms); the
sentence splitter and dose pre-filter are faster spellings of a regular expression.
Each is compared here with the plain expression on hand-written and random texts.
"""

from __future__ import annotations

import random
import re

import pytest

from classifiers.criteria.dose_units import _MAYBE_DOSE, DOSE_PATTERN
from classifiers.text import (
    _BOUNDARY,
    ABBREVIATIONS,
    BACKGROUND_CUES,
    FUTURE_CUES,
    Doc,
    compile_terms,
    sentence_spans,
)

from .helpers import flagship_screener

TEXTS = [
    "Psilocybin was compared to a wait-list control group. Participants were randomized.",
    "We review the literature. In this review, 12 studies were included; here, we discuss it.",
    "A psilocybe alkaloid, a minor Psilocybe alkaloid and A. muscaria; a deuterated analogue.",
    "Controlled trials of micro-dosing (sub-perceptual) doses: no active drug was used.",
    "Data via a survey; versus the waitlist or a waitlist-controlled design vs. a wait-list.",
    "METHODS: 20 adults received 0.5 g dried truffles.\nRESULTS: none; has been used before.",
    "Ünïcode – text’s words: naïve µg dose, psilocybin–LSD, ‘quoted’ and café-style.",
    "",
]
VOCABULARIES = [
    ["a (minor )?psilocybe alkaloids?", "a\\. muscaria", "deuterated analogues?"],
    ["(to|versus|vs\\.?|or) (a |the )?wait-?list", "controlled (trial|study)s?"],
    ["in this (brief |narrative )?(review|commentary)", "here,", "we review (the )?\\w+"],
    ["(\\d+|[a-z]+-?[a-z]*) (studies|trials) (were|met) (included|inclusion)"],
    ["receiv\\w*", "micro-?dos\\w*", "sub-?perceptual", "no active (drug|substance)"],
    ["(has|have)( not| also)* been", "naïve", "µg", "café"],
    list(BACKGROUND_CUES),
    list(FUTURE_CUES),
]


def _random_texts(count: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    words = [
        "a",
        "an",
        "the",
        "to",
        "or",
        "vs.",
        "versus",
        "wait-list",
        "waitlist",
        "alkaloid",
        "alkaloids",
        "psilocybe",
        "minor",
        "muscaria",
        "deuterated",
        "analogue",
        "controlled",
        "trial",
        "trials",
        "in",
        "this",
        "review",
        "here,",
        "we",
        "studies",
        "were",
        "included",
        "12",
        "received",
        "micro-dosing",
        "no",
        "active",
        "drug",
        "has",
        "have",
        "been",
        "also",
        "naïve",
        "µg",
        "café",
        "data",
        "via",
    ]
    seps = [" ", " ", " ", ", ", ". ", "-", "\n", " (", ") ", "–", "’"]
    return [
        "".join(rnd.choice(words) + rnd.choice(seps) for _ in range(rnd.randint(0, 25)))
        for _ in range(count)
    ]


def _plain_hits(doc: Doc, pattern: re.Pattern[str]) -> list[tuple[str, int, int]]:
    """(field, start, end) of every non-empty match, by scanning each field in full."""
    return [
        (name, m.start(), m.end())
        for name, low in doc.low.items()
        for m in pattern.finditer(low)
        if m.end() > m.start()
    ]


@pytest.mark.parametrize("terms", VOCABULARIES)
def test_find_and_search_match_a_plain_scan(terms: list[str]) -> None:
    pattern = compile_terms(terms)
    for text in TEXTS + _random_texts(300):
        doc = Doc({"title": "A title", "abstract": text})
        got = [(h.field, h.start, h.end) for h in doc.find(pattern)]
        assert got == _plain_hits(doc, pattern), text
        for i, sent in enumerate(doc.sentences):
            plain = pattern.search(doc.low[sent.field][sent.start : sent.end]) is not None
            assert doc.search(pattern, i) == plain, (text, i)


def test_find_matches_a_plain_scan_for_every_flagship_vocabulary() -> None:
    screener = flagship_screener()
    patterns = {
        v
        for c in screener.criteria
        for v in vars(c).values()
        if isinstance(v, re.Pattern) and not v.flags & re.IGNORECASE
    }
    assert len(patterns) > 10
    for text in TEXTS + _random_texts(100, seed=3):
        doc = Doc({"title": text[:40] or "t", "abstract": text})
        for pattern in patterns:
            got = [(h.field, h.start, h.end) for h in doc.find(pattern)]
            want = _plain_hits(doc, pattern)
            assert got == want, (pattern.pattern[:60], text)


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []


def _reference_spans(text: str) -> list[tuple[int, int]]:
    """The spans between the boundaries ``_BOUNDARY.finditer`` gives, less the boundaries
    that follow an abbreviation on the same line."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[: match.start()]
        word = before.split(" ")[-1].lower()
        if before.endswith(".") and "\n" not in match.group() and word in ABBREVIATIONS:
            continue
        spans += _trimmed(text, start, match.start())
        start = match.end()
    return spans + _trimmed(text, start, len(text))


def test_sentence_spans_match_the_boundary_pattern() -> None:
    rnd = random.Random(5)
    alphabet = ".!?\n \t\r\"'([Aa0 .\n\u00a0\u2029\x85"
    texts = TEXTS + ["".join(rnd.choice(alphabet) for _ in range(14)) for _ in range(20000)]
    tokens = ["e.g.", "vs.", "al.", "Fig.", "No.", "X", "x", "1", ".", " ", "  ", "\n", "!", "ab"]
    texts += ["".join(rnd.choice(tokens) for _ in range(12)) for _ in range(20000)]
    for text in texts:
        assert sentence_spans(text) == _reference_spans(text), repr(text)


def test_abbreviations_do_not_end_sentences_but_line_breaks_do() -> None:
    text = (
        "Psychedelics (e.g. LSD) were compared vs. Placebo as Smith et al. (2020) did. "
        "Then 20 adults took part.\nMETHODS: see Fig. 2."
    )
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Psychedelics (e.g. LSD) were compared vs. Placebo as Smith et al. (2020) did.",
        "Then 20 adults took part.",
        "METHODS: see Fig. 2.",
    ]


def test_dose_prefilter_never_rejects_a_dose() -> None:
    rnd = random.Random(9)
    pieces = [
        *[
            "1",
            "25",
            "0.5",
            "1,000",
            "0·3",
            ".",
            ",",
            "·",
            "-",
            "–",
            "mg",
            "µg",
            "μg",
            "ug",
            "mcg",
            "g",
            "gm",
            "kg",
            "L",
            "h",
            "x",
            "a",
            "M",
        ],
        " ",
        "  ",
        " to ",
        " and ",
        ", ",
        "milligrams",
        "micrograms",
        "grams",
        "/kg",
        " per ",
        "70 kg",
        "mice",
        "\n",
    ]
    found = 0
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 8)))
        if DOSE_PATTERN.search(text):
            found += 1
            assert _MAYBE_DOSE.search(text), repr(text)
    assert found > 500


PINNED_TEXT = (
    "BACKGROUND: Micro-dosing has been studied before. METHODS: In this randomised, "
    "placebo-controlled trial, 40 adults received 0.5 g of dried Psilocybe truffles or a "
    "placebo (e.g. an inert capsule) vs. a wait-list; rats were not used.\n"
    "RESULTS: Controlled trials are needed."
)
PINNED = [
    (
        ["micro-?dos\\w*", "receiv\\w*", "(has|have)( not| also)* been"],
        [(12, 24, "Micro-dosing"), (25, 33, "has been"), (115, 123, "received")],
    ),
    (
        ["(randomi[sz]ed |placebo-)?controlled (trial|study)s?", "wait-?list", "placebos?"],
        [
            (79, 103, "placebo-controlled trial"),
            (163, 170, "placebo"),
            (201, 210, "wait-list"),
            (241, 258, "Controlled trials"),
        ],
    ),
    (
        ["\\d+(\\.\\d+)? ?(g|mg)", "rats?", "truffles?"],
        [(124, 129, "0.5 g"), (149, 157, "truffles"), (212, 216, "rats")],
    ),
]


@pytest.mark.parametrize(("terms", "expected"), PINNED)
def test_pinned_hits_on_a_fixed_abstract(
    terms: list[str], expected: list[tuple[int, int, str]]
) -> None:
    """Offsets are into the abstract as given, case kept; sections come from the labels."""
    doc = Doc({"title": "Pinned", "abstract": PINNED_TEXT})
    hits = doc.find(compile_terms(terms), ["abstract"])
    assert [(h.start, h.end, PINNED_TEXT[h.start : h.end]) for h in hits] == expected


def test_sections_and_sentences_of_the_fixed_abstract() -> None:
    doc = Doc({"title": "Pinned", "abstract": PINNED_TEXT})
    assert [(s.field, s.section) for s in doc.sentences] == [
        ("title", "title"),
        ("abstract", "background"),
        ("abstract", "body"),
        ("abstract", "body"),
    ]


def test_the_public_names_are_those_callers_use() -> None:
    import classifiers.text as text

    assert sorted(n for n in text.__all__ if not n.startswith("_")) == [
        "ABBREVIATIONS",
        "BACKGROUND_CUES",
        "Doc",
        "Evidence",
        "FUTURE_CUES",
        "Hit",
        "Sentence",
        "TEXT_FIELDS",
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
    assert all(hasattr(text, n) for n in text.__all__)
