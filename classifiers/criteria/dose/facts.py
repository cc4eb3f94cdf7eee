"""What the dose criterion reads from a record: mentions, markers, arms and sentences.

Plain data shared by extraction, linking and judgement, so none of those modules
has to import another's internals.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from classifiers.criteria.dose.config import DRUG, TARGET_FAMILY
from classifiers.criteria.dose_units import DoseMention
from classifiers.text import is_abbreviation
from classifiers.types import Evidence


class Mention(NamedTuple):
    """A substance named in the text (tuples: dozens are made per record)."""

    field: str
    start: int
    end: int
    category: str


class Marker(NamedTuple):
    """A vocabulary phrase (microdose, active placebo, head twitches...) in the text."""

    field: str
    start: int
    end: int

    def evidence(self, texts: Mapping[str, str]) -> Evidence:
        return Evidence(self.field, self.start, self.end, texts[self.field][self.start : self.end])


@dataclass(slots=True)
class Arm:
    """A dose mention linked to its substance, with each value judged against the thresholds."""

    dose: DoseMention
    sentence: int
    substance: str | None  # a mention category, or None when nothing psychedelic is near
    classes: tuple[str, ...] = ()
    equivalents: tuple[float, ...] = ()  # values on the threshold's scale
    role: bool = False  # serves only as active placebo / control for another arm
    fresh: bool = False  # a fresh (not dried) weight of material

    @property
    def is_target(self) -> bool:
        return self.substance in TARGET_FAMILY

    def evidence(self) -> Evidence:
        d = self.dose
        return Evidence(d.field, d.start, d.end, d.text)


@dataclass(slots=True)
class Facts:
    texts: dict[str, str]
    sentences: Sentences
    arms: list[Arm]
    mentions: list[Mention]
    markers: dict[str, list[Marker]]
    animal: bool
    psychedelic_present: bool

    def weak_low(self) -> tuple[list[Marker], list[Marker]]:
        """ "low-dose" phrases about a psychedelic, and keyword traps (aspirin, CT)."""
        about_psychedelic: list[Marker] = []
        about_drug: list[Marker] = []
        for marker in self.markers["weak_low_terms"]:
            following = [
                m
                for m in self.mentions
                if m.field == marker.field and marker.end <= m.start <= marker.end + 30
            ]
            first = min(following, key=lambda m: m.start) if following else None
            if first is not None and first.category == DRUG:
                about_drug.append(marker)
            else:
                about_psychedelic.append(marker)
        return about_psychedelic, about_drug


class Sentences:
    """Maps (field, offset) to a global sentence number across title and abstract.

    Boundaries follow ``classifiers.text.sentence_spans`` (". " before a capital,
    digit, quote or bracket, not after an abbreviation; line breaks), found with
    ``str.find`` because the regular-expression split cost more than the rest of
    the criterion.
    """

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._starts: dict[str, tuple[list[int], int]] = {}
        count = 0
        for name, text in texts.items():
            starts = _sentence_starts(text)
            self._starts[name] = (starts, count)
            count += len(starts)

    def index(self, field_name: str, pos: int) -> int:
        starts, first = self._starts[field_name]
        return first + max(bisect_right(starts, pos) - 1, 0)

    def bounds(self, field_name: str, pos: int) -> tuple[int, int]:
        """[start, end) of the sentence containing ``pos`` (end is the next sentence's start)."""
        starts = self._starts[field_name][0]
        i = bisect_right(starts, pos)
        return starts[i - 1] if i else 0, starts[i] if i < len(starts) else 1 << 30

    def same(self, a: Mention | Marker | DoseMention, b: Mention | Marker | DoseMention) -> bool:
        """Whether two located items are in the same sentence of the same field."""
        if a.field != b.field:
            return False
        starts = self._starts[a.field][0]
        return bisect_right(starts, a.start) == bisect_right(starts, b.start)


# Literal-first patterns, so the engine can use its fast literal search.
_FULL_STOP = re.compile(r"\. +(?=[\"'(\[A-Z0-9])")
_OTHER_STOP = re.compile(r"[?!] +(?=[\"'(\[A-Z0-9])")
_LINE_BREAK = re.compile(r"\n\s*")


def _sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (the first is always 0)."""
    cuts = [m.end() for m in _FULL_STOP.finditer(text) if not is_abbreviation(text, m.start())]
    if "?" in text or "!" in text:
        cuts.extend(m.end() for m in _OTHER_STOP.finditer(text))
    if "\n" in text:
        cuts.extend(m.end() for m in _LINE_BREAK.finditer(text))
    cuts.sort()
    return [0, *cuts]
