"""Text helpers shared by the criteria: which fields to read and where sentences are.

Offsets are always into the field's text exactly as given, so evidence can be
highlighted in the original record without re-normalising it.
"""

from __future__ import annotations

import os.path
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

try:  # the regular-expression parser, used only to find literal triggers
    import re._parser as _sre_parse
except ImportError:  # Python < 3.11 layout
    import sre_parse as _sre_parse

from classifiers.types import TEXT_FIELDS, Evidence

# A sentence ends at . ! ? followed by space and an upper-case letter/digit/quote,
# or at a line break (structured abstracts). Decimal points ("0.5 mg") and common
# abbreviations ("e.g.", "vs.", "approx.") do not end a sentence.
ABBREVIATIONS = frozenset(
    ("e.g.", "i.e.", "vs.", "approx.", "ca.", "al.", "fig.", "no.", "spp.", "sp.", "p.")
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n+")
_SPLIT = re.compile(r"[.!?\n](?:(?<=[.!?])(\s+)(?=[\"'(\[A-Z0-9])|(?<=\n)\n*)")


def text_fields(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (field, text) for the free-text fields that are present and non-empty."""
    for name in TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            yield name, value


def is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``text[dot]`` ends an abbreviation ("e.g.", "et al.")."""
    space = text.rfind(" ", max(0, dot - 8), dot)
    if space == -1 and dot > 8:
        return False  # the word is longer than any abbreviation
    return text[space + 1 : dot + 1].lstrip("([").lower() in ABBREVIATIONS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Half-open (start, end) spans of the sentences of ``text``, whitespace trimmed."""
    # The boundaries of ``_BOUNDARY.finditer`` (a lookbehind at the start of a pattern
    # makes the engine try every position) less those after an abbreviation: ``_SPLIT``
    # starts at the . ! ? or line break itself, so the engine skips to those characters,
    # and its gap group is the boundary ``_BOUNDARY`` matches.
    spans: list[tuple[int, int]] = []
    start = 0
    for found in _SPLIT.finditer(text):
        end = found.start(1)
        if end < 0:  # a line break that does not follow . ! ?
            end = found.start()
        elif (
            text[found.start()] == "."
            and "\n" not in found.group(1)
            and is_abbreviation(text, found.start())
        ):
            continue  # "e.g. LSD": the sentence goes on (a line break still ends it)
        # the sentence [start, end) with surrounding whitespace trimmed, if any is left
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
        start = found.end()
    end = len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
    return spans


# --------------------------------------------------------------------------------------
# Term matching over a whole record (used by the criteria).
#
# A ``Doc`` holds the record's free-text fields split into sentences, each tagged with the
# section it belongs to (structured abstracts: BACKGROUND:, METHODS:, ...). Criteria
# compile their configured vocabularies once with ``compile_terms`` and ask the Doc for
# hits; every hit carries offsets into ``record[field]`` exactly as given.
# --------------------------------------------------------------------------------------

_SECTION_LABEL = re.compile(
    r"(?P<label>background|introduction|aims?|objectives?|purpose|context|rationale"
    r"|methods?(?: and analysis)?|design|setting|participants|interventions?"
    r"|results?|findings|conclusions?|discussion|interpretation"
    r"|ethics and dissemination|trial registration|limitations)\s*:",
    re.IGNORECASE,
)
_SECTION_KIND = {
    "background": "background",
    "introduction": "background",
    "context": "background",
    "rationale": "background",
    "conclusion": "conclusion",
    "conclusions": "conclusion",
    "discussion": "conclusion",
    "interpretation": "conclusion",
    "limitations": "conclusion",
}


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


def lower_text(text: str) -> str:
    """``text`` lower-cased with every offset unchanged (a few characters lower-case to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


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
    triggers = tuple(_triggers(t) for t in lowered)
    literals = tuple(sorted({lit for trig in triggers if trig for lit in trig}))
    _VOCABULARIES[id(pattern)] = (pattern, (lowered, triggers, whole_word, literals))
    scan = _scan_plan(lowered, triggers, whole_word)
    if scan is not None:
        _SCANS[id(pattern)] = (pattern, scan)
    return pattern


@lru_cache(maxsize=4096)
def _join(fragments: tuple[str, ...], whole_word: bool) -> re.Pattern[str]:
    if not fragments:
        return re.compile(r"(?!x)x")  # matches nothing
    body = "|".join(f"(?:{t})" for t in fragments)
    if whole_word:
        body = rf"(?<![\w])(?:{body})(?![\w])"
    return re.compile(body)


# Compiled vocabulary -> (its lower-cased fragments, per fragment the literal strings one of
# which every match contains (None: unknown), whole_word). ``Doc.find`` scans a text only
# with the fragments whose literals occur in it: a substring test is far cheaper than a
# regular-expression scan, and most vocabularies are absent from most abstracts.
_Vocabulary = tuple[tuple[str, ...], tuple[tuple[str, ...] | None, ...], bool, tuple[str, ...]]
# Keyed by ``id(pattern)`` (each entry holds its pattern, so the id stays its own): hashing
# a compiled pattern hashes its whole program, microseconds for a large vocabulary.
_VOCABULARIES: dict[int, tuple[re.Pattern[str], _Vocabulary]] = {}


def _triggers(fragment: str) -> tuple[str, ...] | None:
    """Literal strings, one of which occurs in every match of ``fragment`` (None: unknown)."""
    try:
        parsed = _sre_parse.parse(fragment)
    except Exception:  # any parser trouble: always scan with this fragment
        return None
    found = _required(list(parsed))
    if not found or any(len(t) < 2 for t in found):
        return None
    return tuple(sorted(found))


def _required(items: list[Any]) -> set[str] | None:
    """Best set of literals required by a parsed sequence (longest literal run or alternatives)."""
    best: set[str] | None = None

    def consider(candidate: set[str] | None) -> None:
        nonlocal best
        if not candidate or len(candidate) > 24:
            return
        if best is None or min(map(len, candidate)) > min(map(len, best)):
            best = candidate

    run = ""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run += chr(av)
            continue
        if run:
            consider({run})
            run = ""
        if name == "SUBPATTERN":
            consider(_required(list(av[3])))
        elif name == "BRANCH":
            options = [_required(list(branch)) for branch in av[1]]
            if all(options):
                consider(set().union(*[o for o in options if o]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            consider(_required(list(av[2])))
    if run:
        consider({run})
    return best


# --------------------------------------------------------------------------------------
# Finding a vocabulary's matches without trying the pattern at every position.
#
# A regular-expression scan costs about the same per character whatever the vocabulary
# (the leading word-boundary assertion defeats the engine's literal prefix search), so
# ``Doc.find`` instead lists the positions where some term can START: every term that
# begins with known literal text (``_prefixes``) can only match where one of those
# strings occurs, which a per-field index of word starts (or ``str.find``) answers in a
# few dictionary look-ups. The compiled vocabulary is then tried with ``match`` at those
# candidate positions only, in order, resuming after each match exactly as ``finditer``
# does, so the hits are identical to a full scan. Terms without a literal start are
# located with their own (unanchored) pattern.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity (a dict key per Doc)
class _Fixed:
    """Terms that start with a word followed by fixed text (``controlled trial``).

    They can only start where the text starts with one of ``prefixes`` at a word start,
    found with ``str.find`` on their common start; and only in a field that has the word
    ``guard`` (a whole word inside every one of the prefixes, None: no such word), so
    ``in this review`` is not looked for in a field without the word ``review``.
    """

    guard: str | None
    common: str
    prefixes: tuple[str, ...]


@lru_cache(maxsize=4096)
def _fixed(guard: str | None, prefixes: tuple[str, ...]) -> _Fixed:
    """One shared ``_Fixed`` per (guard, prefixes), so Docs cache its positions once."""
    return _Fixed(guard, os.path.commonprefix(list(prefixes)), prefixes)


def _fixed_groups(prefixes: set[tuple[str, bool]]) -> tuple[_Fixed, ...]:
    """The (prefix, complete) of one word's terms, grouped by the word each one guarantees.

    A prefix's guard is its longest whole word after the first: a word run followed by
    more of the prefix, or ending a complete prefix (whole-word terms end at a word end).
    """
    groups: dict[str | None, set[str]] = {}
    for prefix, complete in prefixes:
        runs = list(_WORD.finditer(prefix))[1:]
        whole = sorted(
            (-len(m.group()), m.group()) for m in runs if m.end() < len(prefix) or complete
        )
        groups.setdefault(whole[0][1] if whole else None, set()).add(prefix)
    return tuple(
        _fixed(g, tuple(sorted(ps)))
        for g, ps in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    )


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity (a dict key per Doc)
class _ScanPlan:
    # A whole-word vocabulary's terms that start with a word: the text's word there must be
    # exactly this one (and the text there start with one of the prefixes, if given).
    # word -> None (the word alone) or the groups of its terms' prefixes
    words: dict[str, tuple[_Fixed, ...] | None]
    word_set: frozenset[str]
    # ... or must begin with one of these (terms such as ``receiv\\w*``).
    word_starts: tuple[str, ...]
    other_prefixes: tuple[str, ...]  # anywhere (found with str.find)
    loose: re.Pattern[str] | None  # the terms without a literal start, unanchored
    # one of these occurs when ``loose`` can match; each with a word it has (see _inner_word)
    loose_literals: tuple[tuple[str, str | None], ...] | None
    # only ``words``: no candidates in a field without one of ``word_set``
    only_words: bool = False


_SCANS: dict[int, tuple[re.Pattern[str], _ScanPlan]] = {}  # keyed by id, as _VOCABULARIES


_WORD = re.compile(r"\w+")
_MAX_PREFIXES = 48


def _scan_plan(
    fragments: tuple[str, ...],
    triggers: tuple[tuple[str, ...] | None, ...],
    whole_word: bool,
) -> _ScanPlan | None:
    """How to list a vocabulary's candidate start positions (None: scan it in full)."""
    if not fragments:
        return None
    try:
        if _sre_parse.parse(_join(fragments, whole_word).pattern).getwidth()[0] == 0:
            return None  # a term may match the empty string: keep finditer's semantics
    except Exception:
        return None
    words: dict[str, set[tuple[str, bool]] | None] = {}
    word_starts: set[str] = set()
    other: set[str] = set()
    loose: list[str] = []
    loose_literals: set[str] | None = set()
    for fragment, trigger in zip(fragments, triggers, strict=True):
        if re.search(r"\\[1-9]|\(\?P=", fragment):
            return None  # numbered back-references change meaning when joined
        starts = _prefixes(fragment)
        if starts is None:
            loose.append(fragment)
            trigger = _best_trigger(trigger, _infixes(fragment))
            if trigger is None or loose_literals is None:
                loose_literals = None
            else:
                loose_literals.update(trigger)
            continue
        for prefix, complete in starts:
            lead = _WORD.match(prefix)
            if not whole_word or lead is None:
                other.add(prefix)
            elif lead.end() < len(prefix) or complete:
                word = lead.group()
                if lead.end() == len(prefix):
                    words[word] = None  # the word alone
                elif word not in words or words[word] is not None:
                    words.setdefault(word, set()).add((prefix, complete))  # type: ignore[union-attr]
            else:
                word_starts.add(prefix)
    loose_pattern = None
    if loose:
        try:  # whole-word: the word-boundary test prunes most positions cheaply
            loose_pattern = re.compile(_join(tuple(loose), whole_word).pattern)
        except re.error:
            return None
    return _ScanPlan(
        {w: _fixed_groups(v) if v is not None else None for w, v in sorted(words.items())},
        frozenset(words),
        tuple(sorted(word_starts)),
        tuple(sorted(other)),
        loose_pattern,
        tuple((lit, _inner_word(lit)) for lit in sorted(loose_literals))
        if loose_literals is not None
        else None,
        not (word_starts or other or loose),
    )


# ASCII bytes that are not ``\\w`` characters become spaces; bytes of other characters stay.
_NON_WORD_TO_SPACE = bytes(
    [c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(128)] + list(range(128, 256))
)


def _word_set(text: str) -> set[str]:
    """``set(re.findall(r"\\w+", text))``, about twice as fast.

    Every ASCII character that is not a word character is turned into a space (a bytes
    translation) and the text split on whitespace; a piece with other characters in it
    (some of which may not be word characters, such as ``–``) is split by the regular
    expression after all.
    """
    try:
        pieces = set(text.encode().translate(_NON_WORD_TO_SPACE).decode().split())
    except UnicodeError:  # lone surrogates
        return set(_WORD.findall(text))
    if text.isascii():
        return pieces
    words: set[str] = set()
    for piece in pieces:
        if piece.isascii():
            words.add(piece)
        else:
            words.update(_WORD.findall(piece))
    return words


def _inner_word(literal: str) -> str | None:
    """The longest word of ``literal`` with a non-word character on both sides within it.

    Wherever ``literal`` occurs, that word occurs as a whole word: a field without it in
    its word index cannot contain ``literal`` (a set look-up instead of a substring scan).
    """
    inner = [m.group() for m in _WORD.finditer(literal) if m.start() > 0 and m.end() < len(literal)]
    return max(inner, key=len) if inner else None


def _is_word_char(ch: str) -> bool:
    """Whether ``ch`` is a ``\\w`` character (the definition of ``re`` for str patterns)."""
    return ch.isalnum() or ch == "_"


def _prefixes(fragment: str) -> tuple[tuple[str, bool], ...] | None:
    """Non-empty strings one of which every match of ``fragment`` starts with (None: unknown).

    Each comes with whether it is the whole match (the fragment is exactly that text).
    """
    try:
        parsed = _sre_parse.parse(fragment)
    except Exception:
        return None
    if parsed.state.flags & ~(re.UNICODE | re.DEBUG):  # inline flags such as (?i)
        return None
    found = _starts(list(parsed))
    if found is None or not found or len(found) > _MAX_PREFIXES:
        return None
    if any(not text for text, _ in found):
        return None
    return tuple(sorted(set(found)))


def _infixes(fragment: str) -> tuple[str, ...] | None:
    """Strings one of which every match of ``fragment`` contains (longest found; None: unknown).

    The literal starts of the fragment's tail (as in ``12 studies were included``, whose
    tail ``(were|met) (included|inclusion)`` must occur whatever the number is).
    """
    try:
        items = list(_sre_parse.parse(fragment))
    except Exception:
        return None
    best: tuple[str, ...] | None = None
    for k in range(len(items)):
        found = _starts(items[k:])
        if not found or len(found) > _MAX_PREFIXES or any(not t for t, _ in found):
            continue
        best = _best_trigger(best, tuple(sorted({t for t, _ in found})))
    return best


def _best_trigger(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The more selective of two literal sets (a longer shortest member), at least 2 long."""
    options = [t for t in (a, b) if t and min(map(len, t)) >= 2]
    if not options:
        return None
    return max(options, key=lambda t: min(map(len, t)))


# (text, complete): ``complete`` when the whole sub-expression is exactly ``text``, so what
# follows it may extend the prefix.
_Starts = list[tuple[str, bool]]


def _starts(items: list[Any]) -> _Starts | None:
    """Literal starts of a parsed sequence (None: too many alternatives)."""
    results: _Starts = [("", True)]
    for op, av in items:
        if not any(complete for _, complete in results):
            break
        alts = _node_starts(str(op), av)
        if alts is None:  # unknown: the prefixes end here
            results = [(text, False) for text, _ in results]
            break
        extended: _Starts = []
        for text, complete in results:
            if not complete:
                extended.append((text, False))
                continue
            extended.extend((text + alt, alt_complete) for alt, alt_complete in alts)
        extended = list(dict.fromkeys(extended))
        if len(extended) > _MAX_PREFIXES:  # stop at the shorter prefixes instead
            results = [(text, False) for text, _ in results]
            break
        results = extended
    return results


def _node_starts(name: str, av: Any) -> _Starts | None:
    if name == "LITERAL":
        return [(chr(av), True)]
    if name == "SUBPATTERN":
        group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        return _starts(list(sub))
    if name == "BRANCH":
        out: _Starts = []
        for branch in av[1]:
            sub = _starts(list(branch))
            if sub is None:
                return None
            out.extend(sub)
        return out
    if name == "IN":
        chars = []
        for op, value in av:
            if str(op) != "LITERAL":
                return None
            chars.append((chr(value), True))
        return chars if 0 < len(chars) <= 8 else None
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = av
        inner = _starts(list(sub))
        if inner is None:
            return None
        # at most once: each way through (skipped, or one complete inner text) goes on
        once = high == 1
        body = [(text, complete and once) for text, complete in inner]
        return [("", True), *body] if low == 0 else body
    return None


@dataclass(slots=True, unsafe_hash=True)  # not frozen: a frozen __init__ is slow
class Sentence:
    field: str
    start: int
    end: int
    section: str  # "title", "background", "body" or "conclusion"
    index: int  # position within its field (0 = first sentence)


@dataclass(slots=True, unsafe_hash=True)  # not frozen: a frozen __init__ is slow
class Hit:
    field: str
    start: int
    end: int
    sentence: int  # index into Doc.sentences


class Doc:
    """The free-text fields of one record, split into sentences with sections."""

    __slots__ = (
        "texts",
        "low",
        "sentences",
        "_starts",
        "_memo",
        "_words",
        "_positions",
        "_candidates",
    )

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.texts: dict[str, str] = dict(text_fields(record))
        self.low: dict[str, str] = {k: lower_text(v) for k, v in self.texts.items()}
        # (id(pattern), fields) -> (pattern, hits): ids, as hashing a pattern is slow
        self._memo: dict[tuple[int, tuple[str, ...] | None], tuple[re.Pattern[str], list[Hit]]] = {}
        self._words: dict[str, tuple[set[str], list[str]]] = {}
        self._positions: dict[tuple[str, str | _Fixed], list[int]] = {}
        self._candidates: dict[tuple[_ScanPlan, str], list[int]] = {}
        self.sentences: list[Sentence] = []
        self._starts: dict[str, tuple[list[int], int]] = {}
        for name, text in self.texts.items():
            first = len(self.sentences)
            section = "title" if name == "title" else "body"
            labelled = name != "title" and ":" in text  # every section label ends with ":"
            spans = sentence_spans(text)
            append = self.sentences.append
            for i, (start, end) in enumerate(spans):
                if labelled:
                    label = _SECTION_LABEL.match(text, start)
                    if label:
                        section = _SECTION_KIND.get(label.group("label").lower(), "body")
                append(Sentence(name, start, end, section, i))
            self._starts[name] = ([start for start, _ in spans], first)

    @property
    def has_abstract(self) -> bool:
        return "abstract" in self.texts

    def text(self, sentence: Sentence) -> str:
        return self.texts[sentence.field][sentence.start : sentence.end]

    def sentence_of(self, field: str, pos: int) -> int:
        starts, first = self._starts[field]
        return first + max(bisect_right(starts, pos) - 1, 0)

    def find(self, pattern: re.Pattern[str], fields: Iterable[str] | None = None) -> list[Hit]:
        """Hits of ``pattern`` (from ``compile_terms``) in the lower-cased fields."""
        key = (id(pattern), tuple(fields) if fields is not None else None)
        cached = self._memo.get(key)
        if cached is not None and cached[0] is pattern:
            return list(cached[1])
        hits: list[Hit] = []
        entry = _SCANS.get(id(pattern))
        plan = entry[1] if entry is not None and entry[0] is pattern else None
        for name in key[1] if key[1] is not None else self.low:
            text = self.low.get(name)
            if text is None:
                continue
            if plan is not None:
                candidates = self._candidates.get((plan, name))
                if candidates is None:
                    if plan.only_words and plan.word_set.isdisjoint(
                        (self._words.get(name) or self._word_index(name))[0]
                    ):
                        self._candidates[(plan, name)] = []  # as _quick_candidates
                        continue
                    candidates = self._candidates_in(plan, name)
                if not candidates:
                    continue
                match = pattern.match
                starts, first = self._starts[name]
                pos = 0
                for start in candidates:
                    if start < pos:
                        continue
                    m = match(text, start)
                    if m is not None:
                        pos = m.end()
                        i = bisect_right(starts, start) - 1  # as sentence_of
                        hits.append(Hit(name, start, pos, first + i if i > 0 else first))
                continue
            scan = pattern
            known = _VOCABULARIES.get(id(pattern))
            if known is not None and known[0] is pattern:
                fragments, triggers, whole_word, literals = known[1]
                present = {lit for lit in literals if lit in text}
                active = tuple(
                    [
                        f
                        for f, trig in zip(fragments, triggers, strict=True)
                        if trig is None or not present.isdisjoint(trig)
                    ]
                )
                if not active:
                    continue
                if len(active) < len(fragments):
                    scan = _join(active, whole_word)
            for m in scan.finditer(text):
                if m.end() > m.start():
                    hits.append(Hit(name, m.start(), m.end(), self.sentence_of(name, m.start())))
        self._memo[key] = (pattern, hits)
        return list(hits)

    def _word_index(self, name: str) -> tuple[set[str], list[str]]:
        """The field's distinct words (``\\w+`` runs), as a set and sorted."""
        index = self._words.get(name)
        if index is None:
            words = _word_set(self.low[name])
            index = (words, sorted(words))
            self._words[name] = index
        return index

    def _word_at(self, name: str, word: str) -> list[int]:
        """Start positions of ``word`` (a ``\\w+`` run of the field) as a whole word."""
        key = (name, word)
        found = self._positions.get(key)
        if found is None:
            text = self.low[name]
            size, end = len(word), len(text)
            found = []
            pos = text.find(word)
            while pos >= 0:
                after = pos + size
                if (pos == 0 or not _is_word_char(text[pos - 1])) and (
                    after == end or not _is_word_char(text[after])
                ):
                    found.append(pos)
                pos = text.find(word, pos + 1)
            self._positions[key] = found
        return found

    def _fixed_at(self, name: str, fixed: _Fixed) -> list[int]:
        """Word-start positions of the field where one of ``fixed.prefixes`` begins."""
        key = (name, fixed)
        found = self._positions.get(key)
        if found is None:
            text = self.low[name]
            common, prefixes = fixed.common, fixed.prefixes
            found = []
            pos = text.find(common)
            while pos >= 0:
                if (pos == 0 or not _is_word_char(text[pos - 1])) and text.startswith(
                    prefixes, pos
                ):
                    found.append(pos)
                pos = text.find(common, pos + 1)
            self._positions[key] = found
        return found

    def _has_literal(self, name: str, literals: tuple[tuple[str, str | None], ...]) -> bool:
        """Whether the field contains one of ``literals`` (each with its inner word or None)."""
        text = self.low[name]
        words = self._word_index(name)[0]
        return any((word is None or word in words) and lit in text for lit, word in literals)

    def _quick_candidates(self, plan: _ScanPlan, name: str) -> list[int]:
        """``_candidates_in`` (not yet cached), answering most vocabularies' "none" at once."""
        if plan.only_words:
            words = (self._words.get(name) or self._word_index(name))[0]
            if plan.word_set.isdisjoint(words):
                found: list[int] = []
                self._candidates[(plan, name)] = found
                return found
        return self._candidates_in(plan, name)

    def _candidates_in(self, plan: _ScanPlan, name: str) -> list[int]:
        """Sorted positions of ``self.low[name]`` at which a term of ``plan`` may start."""
        key = (plan, name)
        found = self._candidates.get(key)
        if found is not None:
            return found
        text = self.low[name]
        starts: list[int] = []
        if plan.word_set or plan.word_starts:
            words, ordered = self._words.get(name) or self._word_index(name)
            for word in plan.word_set.intersection(words):
                entry = plan.words[word]
                if entry is None:
                    starts.extend(self._word_at(name, word))
                    continue
                for fixed in entry:  # look for the (longer) prefixes themselves
                    if fixed.guard is None or fixed.guard in words:
                        starts.extend(self._fixed_at(name, fixed))
            size = len(ordered)
            for prefix in plan.word_starts:
                i = bisect_left(ordered, prefix)
                while i < size and ordered[i].startswith(prefix):
                    starts.extend(self._word_at(name, ordered[i]))
                    i += 1
        for prefix in plan.other_prefixes:
            pos = text.find(prefix)
            while pos >= 0:
                starts.append(pos)
                pos = text.find(prefix, pos + 1)
        loose = plan.loose
        if loose is not None and (
            plan.loose_literals is None or self._has_literal(name, plan.loose_literals)
        ):
            m = loose.search(text)
            while m is not None:
                starts.append(m.start())
                m = loose.search(text, m.start() + 1)
        found = sorted(set(starts)) if starts else []
        self._candidates[key] = found
        return found

    def search(self, pattern: re.Pattern[str], sentence: int) -> bool:
        """Whether ``pattern`` (from ``compile_terms``) occurs in one sentence."""
        sent = self.sentences[sentence]
        low = self.low[sent.field]
        start, end = sent.start, sent.end
        entry = _SCANS.get(id(pattern))
        plan = entry[1] if entry is not None and entry[0] is pattern else None
        if plan is None or plan.loose is not None or (start and _is_word_char(low[start - 1])):
            return pattern.search(low[start:end]) is not None
        # a match inside the sentence starts at one of the field's candidate positions
        candidates = self._candidates.get((plan, sent.field))
        if candidates is None:
            candidates = self._quick_candidates(plan, sent.field)
        i = bisect_left(candidates, start)
        if i == len(candidates) or candidates[i] >= end:
            return False
        text = low[start:end]
        match = pattern.match
        for pos in candidates[i:]:
            if pos >= end:
                break
            if match(text, pos - start) is not None:
                return True
        return False

    def flagged(self, pattern: re.Pattern[str]) -> set[int]:
        """Indices of the sentences in which ``pattern`` occurs."""
        return {h.sentence for h in self.find(pattern)}

    def before(self, hit: Hit, window: int = 60) -> str:
        """The text of the hit's clause before it (at most ``window`` characters)."""
        sent = self.sentences[hit.sentence]
        text = self.texts[hit.field]
        lead = text[max(sent.start, hit.start - window) : hit.start]
        last = lead.rfind
        cut = max(
            last(";"),
            last(":"),
            last(", and "),
            last(", but "),
            last(", while "),
            last(", whereas "),
        )
        return lead[cut + 1 :] if cut >= 0 else lead

    def after(self, hit: Hit, window: int = 40) -> str:
        sent = self.sentences[hit.sentence]
        return self.texts[hit.field][hit.end : min(sent.end, hit.end + window)]

    def evidence(self, hit: Hit | Sentence, *, whole_sentence: bool = True) -> Evidence:
        """Evidence for a hit (its sentence, or the matched phrase) or for a sentence."""
        if isinstance(hit, Hit):
            if whole_sentence:
                sent = self.sentences[hit.sentence]
                start, end = sent.start, sent.end
            else:
                start, end = hit.start, hit.end
        else:
            start, end = hit.start, hit.end
        text = self.texts[hit.field]
        return Evidence(hit.field, start, end, text[start:end])


_DOC_CACHE: list[tuple[Mapping[str, Any], Any, Any, Doc]] = []


def doc_for(record: Mapping[str, Any]) -> Doc:
    """The record's ``Doc``, shared by the criteria that judge the same record in turn.

    A one-entry cache keyed on the identity of the record and of its text values, so
    several criteria evaluating one record split its sentences only once.
    """
    title, abstract = record.get("title"), record.get("abstract")
    if _DOC_CACHE:
        cached = _DOC_CACHE[0]
        if cached[0] is record and cached[1] is title and cached[2] is abstract:
            return cached[3]
    doc = Doc(record)
    _DOC_CACHE[:] = [(record, title, abstract, doc)]
    return doc


def evidence_list(doc: Doc, items: Iterable[Hit | Sentence], limit: int = 3) -> list[Evidence]:
    """Evidence for ``items`` (hits or sentences), one per sentence, at most ``limit``."""
    seen: set[tuple[str, int]] = set()
    out: list[Evidence] = []
    for item in items:
        sent = doc.sentences[item.sentence] if isinstance(item, Hit) else item
        key = (sent.field, sent.start)
        if key in seen:
            continue
        seen.add(key)
        out.append(doc.evidence(sent))
        if len(out) >= limit:
            break
    return out


def list_field(record: Mapping[str, Any], name: str) -> list[str]:
    """A list-of-strings field (publication_types, mesh_terms, keywords); [] when absent."""
    value = record.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


# Generic English cues shared by the criteria (each kind lets a protocol override them).
# A sentence with a background cue reports other or earlier work; a future cue, work
# that is needed or planned; neither describes what this record itself did.
BACKGROUND_CUES: tuple[str, ...] = (
    r"previous(ly)?",
    r"prior (work|studies|research|trials?)",
    r"earlier (work|studies|research|trials?)",
    r"(has|have)( not| rarely| never| often| largely| mainly| mostly| also| been)* been",
    r"(has|have) (shown|reported|found|suggested|attracted|outpaced|proposed|raised|produced)",
    r"(most|many|some|other|existing|published|recent) "
    r"(evidence|studies|research|trials|reports|work|data)",
    r"in the literature",
    r"literature",
    r"usually",
    r"to date",
    r"so far",
    r"(is|are|remains?) (unknown|unclear|lacking|scarce|limited)",
    r"little is known",
    r"(those|that|what) (seen|reported|found|observed|described) in",
    r"unlike",
)
FUTURE_CUES: tuple[str, ...] = (
    r"(is|are|will be|would be|remain) (now )?(needed|required|warranted|necessary)",
    r"(needed|warranted) to",
    r"future",
    r"(are|is) planned",
    r"should (now )?(include|be tested|test|be conducted|use|prioriti[sz]e|report)",
    r"call(s|ed)? for",
    r"subsequent",
    r"(feasibility|design) of (a|the) (subsequent |future |larger |definitive )?"
    r"(randomi[sz]ed|controlled|placebo|trial)",
    r"(a|an) (larger|definitive|fully powered|adequately powered) (trial|study)",
    r"(is|are|appears?) (feasible|warranted)",
    r"motivate",
    r"would welcome",
)
