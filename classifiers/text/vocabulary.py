"""Vocabularies: lists of regular-expression terms compiled to one case-blind pattern.

Why lower-casing rather than ``re.IGNORECASE``: it is much faster, and offsets stay
those of the original text (``lower_text`` keeps every offset). A compiled vocabulary
is a plain ``re.Pattern`` that callers may use directly; alongside it this module
records how ``Doc.find`` can find its matches quickly (``Vocabulary``): the literal
anchors its terms start with, registered with the shared ``AnchorScanner``, and a
separate pattern for the terms without anchors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from classifiers.text.anchors import anchors, needs_full_scan, required
from classifiers.text.scanner import AnchorScanner


def lower_regex(fragment: str) -> str:
    """``fragment`` with its literal letters lower-cased (escape sequences kept as written)."""
    out: list[str] = []
    escaped = False
    for ch in fragment:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        else:
            out.append(ch.lower())
    return "".join(out)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity (a dict key per Doc)
class Vocabulary:
    """How to find one compiled vocabulary's matches without trying every position.

    A match of ``pattern`` can only start where one of ``anchor_ids`` occurs, or where
    ``loose`` (the terms without anchors, joined the same way) matches; ``loose`` is
    tried only in a field holding one of ``guard_ids`` (None: always). A vocabulary
    with ``full_scan`` is scanned with ``finditer`` as it is.
    """

    pattern: re.Pattern[str]
    anchor_ids: frozenset[int]
    loose: re.Pattern[str] | None
    guard_ids: frozenset[int] | None
    full_scan: bool


# One automaton for all vocabularies, so that a field is scanned once for all of them.
SCANNER = AnchorScanner()

# Keyed by ``id(pattern)`` (each entry holds its pattern, so the id stays its own):
# hashing a compiled pattern hashes its whole program, microseconds for a large one.
_VOCABULARIES: dict[int, Vocabulary] = {}


def vocabulary_of(pattern: re.Pattern[str]) -> Vocabulary | None:
    """The plan recorded for ``pattern`` by ``compile_terms`` (None: not one of its)."""
    found = _VOCABULARIES.get(id(pattern))
    return found if found is not None and found.pattern is pattern else None


def compile_terms(terms: Sequence[str] | str, *, whole_word: bool = True) -> re.Pattern[str]:
    """One pattern matching any of ``terms`` (regular-expression fragments) in LOWER-CASED text.

    Matching is case-insensitive by lower-casing both sides (much faster than
    ``re.IGNORECASE``): search ``lower_text(text)`` or use ``Doc.find``, which does.
    With ``whole_word`` a match may not start or end inside a word. Raises
    ``ValueError`` naming the offending fragment when one is not a valid expression.
    Identical vocabularies share one compiled pattern (so a ``Doc`` can reuse hits).
    """
    if isinstance(terms, str):
        terms = [terms]
    for term in terms:
        if not isinstance(term, str) or not term.strip():
            raise ValueError(f"terms must be non-empty strings, got {term!r}")
        try:
            re.compile(term)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {term!r}: {exc}") from None
    return _compile_terms(tuple(terms), whole_word)


@lru_cache(maxsize=512)
def _compile_terms(terms: tuple[str, ...], whole_word: bool) -> re.Pattern[str]:
    lowered = tuple(lower_regex(t) for t in terms)
    pattern = _join(lowered, whole_word)
    _VOCABULARIES[id(pattern)] = _plan(pattern, lowered, whole_word)
    return pattern


@lru_cache(maxsize=4096)
def _join(fragments: tuple[str, ...], whole_word: bool) -> re.Pattern[str]:
    if not fragments:
        return re.compile(r"(?!x)x")  # matches nothing
    body = "|".join(f"(?:{t})" for t in fragments)
    if whole_word:
        body = rf"(?<![\w])(?:{body})(?![\w])"
    return re.compile(body)


def _plan(pattern: re.Pattern[str], fragments: tuple[str, ...], whole_word: bool) -> Vocabulary:
    """Sort a vocabulary's terms into anchored ones and the rest (see ``Vocabulary``)."""
    # A term with anchors cannot match the empty string (every match starts with a
    # non-empty anchor), and its anchors hold wherever it sits in the joined pattern.
    # Only the other terms are joined anew (``loose``), so only they are checked.
    full = Vocabulary(pattern, frozenset(), None, None, True)
    if not fragments:
        return full
    anchored: set[str] = set()
    loose: list[str] = []
    guards: set[str] | None = set()
    for fragment in fragments:
        found = anchors(fragment)
        if found is not None:
            anchored |= found
            continue
        if needs_full_scan(fragment):
            return full
        loose.append(fragment)
        needed = required(fragment)
        if needed is None or guards is None:
            guards = None
        else:
            guards |= needed
    return Vocabulary(
        pattern,
        SCANNER.register(sorted(anchored)),
        _join(tuple(loose), whole_word) if loose else None,
        SCANNER.register(sorted(guards)) if loose and guards is not None else None,
        False,
    )
