"""What the dose criterion reads from a record: mentions, markers, arms and sentences.

Plain data shared by extraction, linking and judgement, so none of those modules
has to import another's internals.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

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
    def field(self) -> str:
        return self.dose.field

    @property
    def start(self) -> int:
        return self.dose.start

    @property
    def end(self) -> int:
        return self.dose.end

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
        weak = self.markers["weak_low_terms"]
        mentions = SpanIndex(self.mentions if weak else ())
        for marker in weak:
            following = mentions.starting(marker.field, marker.end, marker.end + 30)
            first = following[0] if following else None
            if first is not None and first.category == DRUG:
                about_drug.append(marker)
            else:
                about_psychedelic.append(marker)
        return about_psychedelic, about_drug


class Located(Protocol):
    """Anything with a field and a span: mentions, markers, doses."""

    @property
    def field(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


T = TypeVar("T", bound=Located)


class SpanIndex(Generic[T]):
    """Items of one kind by field, searchable by offset in logarithmic time.

    The items of a field come from one left-to-right scan, so they do not overlap
    and both their starts and their ends are sorted: a window query is two
    bisections, and the work for a record stays linear in its length however many
    doses and substances crowd one sentence.
    """

    def __init__(self, items: Iterable[T]) -> None:
        self._fields: dict[str, tuple[list[int], list[int], list[T]]] = {}
        for item in items:
            entry = self._fields.get(item.field)
            if entry is None:
                entry = self._fields[item.field] = ([], [], [])
            entry[0].append(item.start)
            entry[1].append(item.end)
            entry[2].append(item)

    def near(self, field_name: str, lo: int, hi: int, within: tuple[int, int]) -> list[T]:
        """Items ending at or after ``lo`` and starting before ``hi`` whose start is ``within``."""
        entry = self._fields.get(field_name)
        if entry is None:
            return []
        starts, ends, items = entry
        first = max(bisect_left(ends, lo), bisect_left(starts, within[0]))
        last = min(bisect_left(starts, hi), bisect_left(starts, within[1]))
        return items[first:last]

    def inside(self, field_name: str, lo: int, hi: int) -> list[T]:
        """Items lying wholly in [lo, hi]."""
        entry = self._fields.get(field_name)
        if entry is None:
            return []
        starts, ends, items = entry
        first = bisect_left(starts, lo)
        last = bisect_right(ends, hi)
        return items[first:last] if last > first else []

    def starting(self, field_name: str, lo: int, hi: int) -> list[T]:
        """Items whose start lies in [lo, hi]."""
        entry = self._fields.get(field_name)
        if entry is None:
            return []
        starts, _, items = entry
        return items[bisect_left(starts, lo) : bisect_right(starts, hi)]


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
