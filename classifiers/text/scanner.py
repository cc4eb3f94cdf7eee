"""One pass of a multi-pattern literal matcher over a field for every vocabulary at once.

Why: trying a vocabulary's compiled pattern at every position of an abstract costs
about the same whatever the vocabulary (its leading word-boundary assertion defeats
the regular-expression engine's own literal search), and a record is checked against
dozens of vocabularies. Instead, every literal anchor of every vocabulary (see
``anchors``) goes into one Aho-Corasick automaton (``pyahocorasick``); one scan of a
field lists where each anchor occurs, and each vocabulary then tries its pattern only
at the starts of its own anchors.
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick


class AnchorScanner:
    """The anchors registered so far, each with a small integer id, and their automaton.

    The automaton is rebuilt whenever new anchors arrive; vocabularies are compiled
    once, when criteria are built, so that is rare and never per record. ``version``
    changes with every rebuild so a cached scan can tell that it is stale.
    """

    __slots__ = ("_ids", "_automaton", "version")

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._automaton: ahocorasick.Automaton | None = None
        self.version = 0

    def register(self, literals: Iterable[str]) -> frozenset[int]:
        """Ids of ``literals`` (non-empty strings), adding the new ones to the automaton."""
        ids: set[int] = set()
        added = False
        for literal in literals:
            found = self._ids.get(literal)
            if found is None:
                found = len(self._ids)
                self._ids[literal] = found
                added = True
            ids.add(found)
        if added:
            automaton = ahocorasick.Automaton()
            for literal, number in self._ids.items():
                automaton.add_word(literal, (number, len(literal) - 1))
            automaton.make_automaton()
            self._automaton = automaton
            self.version += 1
        return frozenset(ids)

    def occurrences(self, text: str) -> dict[int, list[int]]:
        """Anchor id -> the start offsets of its occurrences in ``text``, in order."""
        automaton = self._automaton
        if automaton is None:
            return {}
        found: dict[int, list[int]] = {}
        for end, (number, back) in automaton.iter(text):
            starts = found.get(number)
            if starts is None:
                found[number] = [end - back]
            else:
                starts.append(end - back)
        return found
