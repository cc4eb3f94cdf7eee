"""A record's text as the criteria read it: fields, sentences, sections, vocabulary hits.

Why one object per record: several criteria judge the same record in turn, and each
asks for many vocabularies; the ``Doc`` splits the sentences once, scans each field
once with the shared multi-pattern matcher (``vocabulary.SCANNER``), and remembers
every vocabulary's hits. Every hit carries offsets into ``record[field]`` exactly as
given, so evidence can be highlighted in the original record.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from classifiers.text.fields import is_word_char, lower_text, text_fields
from classifiers.text.sentences import SECTION_KIND, SECTION_LABEL, sentence_spans
from classifiers.text.vocabulary import SCANNER, Vocabulary, vocabulary_of
from classifiers.types import Evidence


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

    __slots__ = ("texts", "low", "sentences", "_starts", "_memo", "_anchors", "_candidates")

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.texts: dict[str, str] = dict(text_fields(record))
        self.low: dict[str, str] = {k: lower_text(v) for k, v in self.texts.items()}
        # (id(pattern), fields) -> (pattern, hits): ids, as hashing a pattern is slow
        self._memo: dict[tuple[int, tuple[str, ...] | None], tuple[re.Pattern[str], list[Hit]]] = {}
        # field -> (scanner version, anchor id -> start offsets in the lower-cased field)
        self._anchors: dict[str, tuple[int, dict[int, list[int]]]] = {}
        self._candidates: dict[tuple[Vocabulary, str], tuple[int, list[int]]] = {}
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
                    label = SECTION_LABEL.match(text, start)
                    if label:
                        section = SECTION_KIND.get(label.group("label").lower(), "body")
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
        """Hits of ``pattern`` (from ``compile_terms``) in the lower-cased fields.

        The same hits, in the same order, as ``pattern.finditer`` over each field (empty
        matches left out); for a vocabulary the pattern is only tried where one of its
        terms can start, resuming after each match as ``finditer`` does.
        """
        key = (id(pattern), tuple(fields) if fields is not None else None)
        cached = self._memo.get(key)
        if cached is not None and cached[0] is pattern:
            return list(cached[1])
        hits: list[Hit] = []
        plan = vocabulary_of(pattern)
        for name in key[1] if key[1] is not None else self.low:
            text = self.low.get(name)
            if text is None:
                continue
            if plan is None or plan.full_scan:
                for found in pattern.finditer(text):
                    if found.end() > found.start():
                        at = found.start()
                        hits.append(Hit(name, at, found.end(), self.sentence_of(name, at)))
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
        self._memo[key] = (pattern, hits)
        return list(hits)

    def _anchors_in(self, name: str, version: int) -> dict[int, list[int]]:
        """Where each registered anchor occurs in the field (one scan per scanner version)."""
        cached = self._anchors.get(name)
        if cached is not None and cached[0] == version:
            return cached[1]
        found = SCANNER.occurrences(self.low[name])
        self._anchors[name] = (version, found)
        return found

    def _candidates_in(self, plan: Vocabulary, name: str) -> list[int]:
        """Sorted offsets of the lower-cased field at which a term of ``plan`` may start."""
        key = (plan, name)
        version = SCANNER.version
        cached = self._candidates.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        occurring = self._anchors_in(name, version)
        present = occurring.keys() & plan.anchor_ids
        starts: list[int] = []
        for anchor in present:
            starts.extend(occurring[anchor])
        loose = plan.loose
        guards = plan.guard_ids
        if loose is not None and (guards is None or not guards.isdisjoint(occurring)):
            text = self.low[name]
            m = loose.search(text)
            while m is not None:
                starts.append(m.start())
                m = loose.search(text, m.start() + 1)
        if len(present) > 1 or (starts and loose is not None):
            starts = sorted(set(starts))
        self._candidates[key] = (version, starts)
        return starts

    def search(self, pattern: re.Pattern[str], sentence: int) -> bool:
        """Whether ``pattern`` (from ``compile_terms``) occurs in one sentence."""
        sent = self.sentences[sentence]
        low = self.low[sent.field]
        start, end = sent.start, sent.end
        plan = vocabulary_of(pattern)
        if (
            plan is None
            or plan.full_scan
            or plan.loose is not None
            or (start and is_word_char(low[start - 1]))
        ):
            return pattern.search(low[start:end]) is not None
        # a match inside the sentence starts at one of the field's candidate positions
        candidates = self._candidates_in(plan, sent.field)
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
