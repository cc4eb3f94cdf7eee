"""A vocabulary's hits from ``Doc.find`` are exactly those of a plain scan.

``Doc.find`` no longer tries a vocabulary everywhere: one multi-pattern pass over a
field lists where each term's literal anchors occur, and the compiled pattern is tried
only there. These properties check, for random vocabularies and texts, that this finds
the same matches as (a) a naive left-to-right reference written here for literal
vocabularies and (b) the compiled pattern's own ``finditer`` for general expressions.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.text import Doc, compile_terms, lower_text
from classifiers.text.anchors import anchors, required, spell

WORDS = ["a", "an", "rat", "rats", "trial", "trials", "dose", "dosed", "micro", "é", "µg"]
SEPARATORS = [" ", " ", "-", ", ", ". ", "\n", "(", ")", "_", "’", "2"]

words = st.sampled_from(WORDS)
texts = st.lists(
    st.tuples(words.map(lambda w: w.upper() if len(w) == 3 else w), st.sampled_from(SEPARATORS)),
    max_size=30,
).map(lambda pairs: "".join(w + s for w, s in pairs))
literal_terms = st.lists(
    st.lists(words, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=6, unique=True
)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def naive_hits(low: str, terms: list[str], whole_word: bool) -> list[tuple[int, int]]:
    """Leftmost-first matching as regular-expression alternation does it, by hand: at each
    position the first term (in vocabulary order) that fits wins, and the scan resumes
    after it."""
    out: list[tuple[int, int]] = []
    pos = 0
    while pos < len(low):
        for term in terms:
            end = pos + len(term)
            if not low.startswith(term, pos):
                continue
            if whole_word and (
                (pos > 0 and _is_word(low[pos - 1])) or (end < len(low) and _is_word(low[end]))
            ):
                continue
            out.append((pos, end))
            pos = end
            break
        else:
            pos += 1
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms=literal_terms, text=texts, whole_word=st.booleans())
def test_literal_vocabularies_match_a_naive_reference(
    terms: list[str], text: str, whole_word: bool
) -> None:
    pattern = compile_terms([re.escape(t) for t in terms], whole_word=whole_word)
    doc = Doc({"title": "t", "abstract": text or "x"})
    got = [(h.start, h.end) for h in doc.find(pattern, ["abstract"])]
    assert got == naive_hits(lower_text(text or "x"), terms, whole_word)


# Pieces of regular expressions: understood atoms (anchors come from them) and others
# (classes, repeats, assertions) that end the anchored run or leave a term unanchored.
ATOMS = [
    "rat",
    "trials?",
    "dos(e|ed)",
    "(a|an) ",
    "micro-?",
    "[sz]",
    "\\w*",
    "\\d+",
    "\\s?",
    "(?=s)",
    "\\b",
    "$",
    ".",
    "[^ ]",
    "t{1,2}",
    "é",
    "µg",
    "(tri|dos)+",
    " ",
]
fragments = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4).map("".join).filter(str.strip)


def _plain(doc: Doc, pattern: re.Pattern[str]) -> list[tuple[str, int, int]]:
    return [
        (name, m.start(), m.end())
        for name, low in doc.low.items()
        for m in pattern.finditer(low)
        if m.end() > m.start()
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    terms=st.lists(fragments, min_size=1, max_size=5, unique=True),
    title=texts,
    abstract=texts,
    whole_word=st.booleans(),
)
def test_any_vocabulary_matches_its_own_plain_scan(
    terms: list[str], title: str, abstract: str, whole_word: bool
) -> None:
    pattern = compile_terms(terms, whole_word=whole_word)
    doc = Doc({"title": title, "abstract": abstract})
    assert [(h.field, h.start, h.end) for h in doc.find(pattern)] == _plain(doc, pattern)
    for i, sent in enumerate(doc.sentences):
        plain = pattern.search(doc.low[sent.field][sent.start : sent.end]) is not None
        assert doc.search(pattern, i) == plain


@settings(max_examples=400, deadline=None)
@given(fragment=fragments, text=texts)
def test_every_match_starts_with_an_anchor_and_holds_a_required_literal(
    fragment: str, text: str
) -> None:
    low = lower_text(text)
    compiled = re.compile(fragment)
    starts = anchors(fragment)
    needed = required(fragment)
    for pos in range(len(low) + 1):
        m = compiled.match(low, pos)
        if m is None:
            continue
        if starts is not None:
            assert low.startswith(tuple(starts), pos), (fragment, low, pos)
        if needed is not None:
            assert any(lit in m.group() for lit in needed), (fragment, m.group())


def test_anchors_spell_the_start_of_a_term() -> None:
    assert anchors("controlled (trial|study)s?") == {"controlled trial", "controlled study"}
    assert anchors("micro-?dos\\w*") == {"micro-dos", "microdos"}
    assert anchors("(a|an) (larger|definitive) trial") == {
        "a larger trial",
        "a definitive trial",
        "an larger trial",
        "an definitive trial",
    }
    assert anchors("rats?") == {"rat"}  # "rats" starts with "rat": one anchor suffices
    assert anchors("a\\. muscaria|amanita") == {"a. muscaria", "amanita"}
    assert anchors("randomi[sz]\\w*") == {"randomis", "randomiz"}
    assert anchors("\\d+ mg") is None  # no literal start: found by its own scan
    assert anchors("(the )?placebo") == {"the placebo", "placebo"}
    assert anchors("(?=x)x") is None  # look-arounds are not read
    assert spell("dos(e|ed|ing)") == {"dose", "dosed", "dosing"}
    assert spell("dos\\w*") is None
    assert required("\\d+ (studies|trials) were") == {" studies were", " trials were"}


def test_a_vocabulary_compiled_after_a_doc_was_scanned_is_still_found() -> None:
    doc = Doc({"title": "A zanzibarian quokka trial", "abstract": "Quokkas were dosed."})
    assert doc.find(compile_terms(["trial"]))  # the field is scanned once here
    late = compile_terms(["zanzibarian quokka", "quokkas?"])  # new anchors afterwards
    assert [(h.field, h.start, h.end) for h in doc.find(late)] == [
        ("title", 2, 20),
        ("abstract", 0, 7),
    ]


def test_hostile_texts_give_what_a_plain_scan_gives() -> None:
    """Long runs of anchors and near-misses (linear work: each candidate is tried once)."""
    vocab = compile_terms(["a( a)* b", "aa+", "(has|have)( not| been)* been", "\\d+ ?mg"])
    for text in ["a " * 5000, "a" * 20000, "has " + "been " * 4000 + "x", "1" * 20000 + " m"]:
        doc = Doc({"title": "t", "abstract": text})
        assert [(h.field, h.start, h.end) for h in doc.find(vocab)] == _plain(doc, vocab)


@pytest.mark.parametrize("bad", ["(unclosed", "", "   ", "a)b"])
def test_a_bad_term_is_named_in_one_clear_error(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        compile_terms(["fine", bad])
