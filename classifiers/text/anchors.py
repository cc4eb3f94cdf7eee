"""Literal strings that a vocabulary term must start with, read off its regular expression.

Why: a multi-pattern literal matcher (Aho-Corasick, see ``scanner``) finds in one pass
every place where any term of any vocabulary *could* start; the real compiled pattern
then only has to be tried there. That needs, per term, a small set of literal
"anchors" such that every match of the term begins with one of them.

Only a deliberately small subset of the expression syntax is understood: literal and
escaped characters, ``[abc]`` sets of plain characters, groups with ``|``, and the
``?`` quantifier. The anchors are the strings spelt by the longest run of such atoms
at the start of the term; anything else ends the run. A term whose run is empty (or
could be empty) has no anchors and is found by a regular-expression scan instead, so
an unknown construct costs speed, never a missed match.
"""

from __future__ import annotations

import re

MAX_ANCHORS = 128  # more spellings than this: stop the run earlier (shorter anchors)
_QUANTIFIERS = "?*+{"
_SPECIAL = ".^$"
_BOUND = re.compile(r"\{\d*(,\d*)?\}[?+]?")


def _group_end(text: str, start: int) -> int:
    """Index of the ``)`` closing the group opened at ``text[start]`` (-1: unbalanced)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a set inside a group may hold ( or )
            end = _set_end(text, i)
            if end < 0:
                return -1
            i = end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _set_end(text: str, start: int) -> int:
    """Index of the ``]`` closing the set opened at ``text[start]`` (-1: unbalanced)."""
    i = start + 1
    if i < len(text) and text[i] == "^":
        i += 1
    if i < len(text) and text[i] == "]":  # a leading ] is a literal
        i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "]":
            return i
        i += 1
    return -1


def alternatives(fragment: str) -> list[str]:
    """The top-level ``|`` branches of ``fragment`` (itself alone when it has none)."""
    out: list[str] = []
    depth = 0
    last = 0
    i = 0
    while i < len(fragment):
        ch = fragment[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            end = _set_end(fragment, i)
            i = len(fragment) if end < 0 else end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(fragment[last:i])
            last = i + 1
        i += 1
    out.append(fragment[last:])
    return out


def _atom(fragment: str, i: int) -> tuple[set[str] | None, int]:
    """The strings the atom at ``fragment[i]`` spells (None: not understood) and its end."""
    ch = fragment[i]
    if ch == "\\":
        if i + 1 >= len(fragment):
            return None, len(fragment)
        nxt = fragment[i + 1]
        # \w, \d, \b, \1, \n ...: classes, assertions, back-references, control characters
        return (None if nxt.isalnum() else {nxt}), i + 2
    if ch == "[":
        end = _set_end(fragment, i)
        if end < 0:
            return None, len(fragment)
        body = fragment[i + 1 : end]
        if not body or body[0] == "^" or "\\" in body or "-" in body[1:-1] or "[" in body:
            return None, end + 1  # negated sets, ranges, escapes: not spelt out
        return set(body), end + 1
    if ch == "(":
        end = _group_end(fragment, i)
        if end < 0:
            return None, len(fragment)
        inner = fragment[i + 1 : end]
        if inner.startswith("?:"):
            inner = inner[2:]
        elif inner.startswith("?P<") and ">" in inner:
            inner = inner[inner.index(">") + 1 :]
        elif inner.startswith("?"):
            return None, end + 1  # look-arounds, inline flags, conditionals
        spelt: set[str] = set()
        for branch in alternatives(inner):
            strings = spell(branch)
            if strings is None:
                return None, end + 1
            spelt |= strings
        return spelt, end + 1
    if ch in _SPECIAL or ch in _QUANTIFIERS or ch in ")|]":
        return None, i + 1
    return {ch}, i + 1


def _quantified(fragment: str, i: int, strings: set[str] | None) -> tuple[set[str] | None, int]:
    """Apply the quantifier (if any) at ``fragment[i]`` to an atom's strings."""
    if i >= len(fragment) or fragment[i] not in _QUANTIFIERS:
        return strings, i
    if fragment[i] == "{":
        bound = _BOUND.match(fragment, i)
        # repeats are not a small set of spellings; a "{" that is not a bound is taken
        # as unknown too, and ends the run where it stands
        return None, (bound.end() if bound else len(fragment))
    if fragment[i] != "?":
        i += 1  # * or +: repeats
        if i < len(fragment) and fragment[i] in "?+":
            i += 1
        return None, i
    i += 1
    if i < len(fragment) and fragment[i] in "?+":  # lazy or possessive: the same strings
        i += 1
    return (None if strings is None else strings | {""}), i


def _run(branch: str, *, whole: bool) -> tuple[set[str], bool]:
    """Strings spelt by the leading understood atoms of ``branch`` and whether that is all.

    With ``whole`` a not-understood atom gives an empty set (the branch must be spelt
    out completely); otherwise the run simply stops before it.
    """
    spelt = {""}
    i = 0
    while i < len(branch):
        strings, end = _atom(branch, i)
        strings, end = _quantified(branch, end, strings)
        if strings is None:
            return (set() if whole else spelt), False
        product = {a + b for a in spelt for b in strings}
        if len(product) > MAX_ANCHORS:
            return (set() if whole else spelt), False
        spelt = product
        i = end
    return spelt, True


def spell(branch: str) -> set[str] | None:
    """Every string ``branch`` matches, when it is a small finite set (None otherwise)."""
    spelt, complete = _run(branch, whole=True)
    return spelt if complete else None


def anchors(fragment: str) -> frozenset[str] | None:
    """Literals one of which starts every match of ``fragment`` (None: none known).

    Redundant anchors (those that start with a shorter anchor) are dropped: the shorter
    one already marks the position.
    """
    found: set[str] = set()
    for branch in alternatives(fragment):
        spelt, _ = _run(branch, whole=False)
        if "" in spelt:
            return None
        found |= spelt
    ordered = sorted(found, key=len)
    kept: list[str] = []
    for text in ordered:
        if not any(text.startswith(k) for k in kept):
            kept.append(text)
    return frozenset(kept)


def required(fragment: str) -> frozenset[str] | None:
    """Literals one of which occurs in every match of ``fragment`` (None: none known).

    For a term without anchors (``\\d+ mg``): the run of understood atoms, anywhere in
    each branch, whose shortest spelling is longest. A field without any of them cannot
    hold a match, so the term's scan is skipped there.
    """
    found: set[str] = set()
    for branch in alternatives(fragment):
        best: set[str] | None = None
        i = 0
        while i < len(branch):
            spelt, complete, end = _run_from(branch, i)
            if "" not in spelt and (best is None or min(map(len, spelt)) > min(map(len, best))):
                best = spelt
            if complete:
                break
            i = max(end, i + 1)
        if best is None:
            return None
        found |= best
    return frozenset(found) if found and min(map(len, found)) >= 2 else None


def _run_from(branch: str, start: int) -> tuple[set[str], bool, int]:
    """Like ``_run`` from ``branch[start]`` (an atom boundary): strings, whether it ran to
    the end, and the index just after the atom that stopped it."""
    spelt = {""}
    i = start
    while i < len(branch):
        strings, end = _atom(branch, i)
        strings, end = _quantified(branch, end, strings)
        if strings is None or "" in strings:
            return spelt, False, end
        product = {a + b for a in spelt for b in strings}
        if len(product) > MAX_ANCHORS:
            return spelt, False, end
        spelt = product
        i = end
    return spelt, True, i


def needs_full_scan(fragment: str) -> bool:
    """Whether a vocabulary with the unanchored term ``fragment`` must be scanned in full.

    Conservative. A term that can match nothing changes how a scan steps over the text,
    and a numbered back-reference points elsewhere once the unanchored terms are joined
    into a pattern of their own. Without assertions, a pattern that matches empty
    somewhere matches the empty string, so assertions (look-arounds, anchors, ``\\b``),
    conditionals and back-references are all taken to need the full scan.
    """
    if re.fullmatch(fragment, "") is not None:
        return True
    stripped = fragment.replace("\\\\", "")
    if re.search(r"\\[bBAZz1-9]|[\^$]", stripped):
        return True
    plain = stripped.replace("(?:", "").replace("(?P<", "")
    return "(?" in plain
