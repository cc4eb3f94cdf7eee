"""Find dose statements (numbers with units) in free text and put them on a common scale.

Kept apart from the criterion so the grammar of "how doses are written" can be
tested on its own: abstracts write the same quantity in many ways (``1 mg``,
``1.5mg``, ``1000 mcg``, ``50 µg/kg`` with either mu, ``2.5 mg per 70 kg``,
``0.05–0.4 g``, ``1, 3, 10 and 20 mg/70 kg``) and the criterion should only
ever see one normalised form. Offsets are into the text exactly as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Normalised units the criterion reasons about.
MG = "mg"  # an amount per person (per-70-kg doses are folded in here)
MG_PER_KG = "mg/kg"
GRAM = "g"  # plant or fungal material; mg amounts are never reported in grams
MG_PER_L = "mg/L"  # immersion (zebrafish bath) concentrations
RATE = "rate"  # infusion rates: no single dose can be read off them

# "1,000" is a thousands separator in English abstracts; "0·5" is Lancet style.
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:[.·]\d+)?)"
_LIST_SEPARATOR = r"(?:\s*(?:-|–|—|−)\s*|\s+to\s+|\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+)"
# "25-mg dose" (journal style) has a hyphen where others leave a space.
_MASS = r"(?P<mass>mg|milligrams?|µg|μg|ug|mcg|microg(?:rams?)?|g|gm|grams?)"
_PER = (
    r"(?:\s*/\s*|\s+per\s+|\s*·\s*)"
    r"(?P<per>(?P<ref_weight>\d+)\s*kg|kg|kilograms?|L|l|litres?|liters?"
    r"|min|minute|h|hr|hour|day|d)(?![A-Za-z])"
)
# "mg kg-1", "mg·kg−1", "mg.kg-1", "mg kg^-1" and "mg kg⁻¹" are all per kilogram.
_KG_EXPONENT = r"(?P<kg_exp>\s*(?:[·.]\s*)?kg(?:\^?(?:-|−)1|⁻¹))"
# The pattern starts with a bare digit class so the regex engine can skip quickly to
# numbers; the digits-and-separators run is re-read with _NUMBER afterwards, and a
# number glued to a word or another number ("CYP2D6", "x10") is rejected in Python.
DOSE_PATTERN = re.compile(
    rf"[0-9](?P<numbers>[0-9.,·]*(?:{_LIST_SEPARATOR}[0-9][0-9.,·]*){{0,8}})"
    rf"(?:\s*|-)(?:{_MASS})(?:{_PER}|{_KG_EXPONENT})?(?![A-Za-z0-9µμ])"
)
# Every dose has a digit, "." "," or "·" (the end of its numbers), optional space or a
# hyphen, then the start of a mass unit: texts without one (most) are not scanned.
_MAYBE_DOSE = re.compile(r"[0-9.,·](?:\s*|-)(?:m[gic]|[µμu]g|g)")
_GLUED = re.compile(r"[\w.,·-]")
_SINGLE_NUMBER = re.compile(_NUMBER)
_TO_MG = {"mg": 1.0, "µg": 1e-3, "g": 1e3}


@dataclass(slots=True, unsafe_hash=True)  # not frozen: a frozen __init__ is slow
class DoseMention:
    """One written dose (or list/range of doses sharing a unit) and its normalised values."""

    field: str
    start: int
    end: int
    text: str
    values: tuple[float, ...]  # in ``unit``; grams stay grams, everything else is mg-based
    unit: str


def find_doses(text: str, field: str) -> list[DoseMention]:
    """All dose statements of ``text``; a list like "0.03, 0.1 and 0.3 mg/kg" is one mention."""
    found: list[DoseMention] = []
    if _MAYBE_DOSE.search(text) is None:
        return found
    for match in DOSE_PATTERN.finditer(text):
        if match.start() > 0 and _GLUED.match(text, match.start() - 1):
            continue
        mention = _to_mention(match, field)
        if mention is not None:
            found.append(mention)
    return found


def _to_mention(match: re.Match[str], field: str) -> DoseMention | None:
    spelled = match.string[match.start() : match.end("numbers")]
    if spelled[-1] in ".,·":  # "at 5. mg" is not a number followed by a unit
        return None
    numbers = [_parse_number(n) for n in _SINGLE_NUMBER.findall(spelled)]
    mass = _canonical_mass(match.group("mass"))
    per = (match.group("per") or "").lower()
    unit, factor = _unit_and_factor(mass, per, match.group("ref_weight"), match.group("kg_exp"))
    if unit is None:
        return None
    # "0, 1 and 3 mg": a zero level is the placebo arm written among the doses, not a dose
    values = tuple(n * factor for n in numbers if n > 0)
    if not values:
        return None
    return DoseMention(field, match.start(), match.end(), match.group(), values, unit)


def _parse_number(raw: str) -> float:
    if "," in raw:  # thousands separator (the pattern only allows groups of three)
        raw = raw.replace(",", "")
    return float(raw.replace("·", "."))


def _canonical_mass(raw: str) -> str:
    lowered = raw.lower()
    if lowered in ("mg", "milligram", "milligrams"):
        return "mg"
    if lowered in ("g", "gm", "gram", "grams"):
        return "g"
    return "µg"


def _unit_and_factor(
    mass: str, per: str, ref_weight: str | None, kg_exp: str | None
) -> tuple[str | None, float]:
    """Map a written unit to (normalised unit, multiplier); None for units that are not doses."""
    to_mg = _TO_MG[mass]
    if kg_exp or per in ("kg", "kilogram", "kilograms"):
        return MG_PER_KG, to_mg
    if ref_weight is not None:
        weight = float(ref_weight)
        if weight == 70:  # "mg/70 kg" is the conventional per-person dose
            return MG, to_mg
        return (MG_PER_KG, to_mg / weight) if weight > 0 else (None, 0.0)
    if per in ("l", "litre", "litres", "liter", "liters"):
        return MG_PER_L, to_mg
    if per in ("min", "minute", "h", "hr", "hour"):
        return RATE, to_mg
    if mass == "g":
        return GRAM, 1.0
    return MG, to_mg  # "per day" and bare amounts are per-administration amounts


# --------------------------------------------------------------------------------------
# Vocabulary scanning
# --------------------------------------------------------------------------------------

_REGEX_META = set("()[]{}?*+|^$.\\")
# Characters that may stand right before a term (escaped for a character class):
# spaces (also no-break and thin), brackets, slashes, quotes, hyphens and dashes,
# and punctuation.
_WORD_SEPARATORS = (
    " \t\r\n\u00a0\u2009\u202f(\\[{/\"'\\-\u2010\u2011\u2012\u2013\u2014\u2018\u201c"
    ",;:.+=<>~*&|!?%#@\u00b7"
)
_QUANTIFIERS = set("?*+{")


class Vocabulary:
    """Many categories of regular-expression terms matched in one pass over a text.

    Python's ``re`` tries every alternative of a large alternation at every word
    start, which made a dozen vocabularies cost about a millisecond per abstract.
    Grouping the alternatives under their leading literal characters (a two-level
    trie) lets the engine reject most positions after one or two comparisons. Terms
    are matched case-insensitively as whole words; terms that do not start with a
    literal still work, just more slowly. Where terms overlap at one position the
    longest-written term is tried first, so "psilocybin-containing mushrooms" wins
    over "psilocybin".
    """

    def __init__(self, categories: dict[str, tuple[str, ...]]) -> None:
        self._group_category: dict[str, str] = {}
        terms: list[tuple[str, str]] = []
        for category, category_terms in categories.items():
            for term in category_terms:
                name = f"t{len(self._group_category)}"
                self._group_category[name] = category
                terms.append((term, name))
        body = _trie_alternation([(_lowercase_pattern(t), n) for t, n in terms])
        # A match starts with the character before the term (one of _WORD_SEPARATORS):
        # a pattern that opens with a character class is scanned by the engine's fast
        # prefix search, where a look-behind would be tried at every position.
        self._lower = re.compile(rf"[{_WORD_SEPARATORS}](?:{body})(?![\w])")
        plain = "|".join(f"(?:{t})(?P<{n}>)" for t, n in terms) or "(?!x)x"
        self._ignorecase = re.compile(rf"(?<![\w])(?:{plain})(?![\w])", re.IGNORECASE)

    def scan(self, text: str, low: str | None = None) -> list[tuple[str, int, int]]:
        """(category, start, end) of every term occurrence, offsets into ``text``.

        ``low`` may be ``text`` already lower-cased (``classifiers.text.lower_text``),
        used as is for an ASCII text, where it equals ``text.lower()``.
        """
        lowered = " " + (low if low is not None and text.isascii() else text.lower())
        categories = self._group_category
        found: list[tuple[str, int, int]] = []
        if len(lowered) == len(text) + 1:  # offsets shift by the added space
            for m in self._lower.finditer(lowered):
                start, end = m.span()
                if end > start + 1 and m.lastgroup is not None:
                    found.append((categories[m.lastgroup], start, end - 1))
            return found
        # A character whose lower case has another length: match the original text.
        for m in self._ignorecase.finditer(text):
            start, end = m.span()
            if end > start and m.lastgroup is not None:
                found.append((categories[m.lastgroup], start, end))
        return found


def _lowercase_pattern(term: str) -> str:
    """Lower-case the literal letters of a pattern, leaving escapes (\\W, \\S) alone."""
    return re.sub(
        r"\\.|[A-Z]", lambda m: m.group() if len(m.group()) > 1 else m.group().lower(), term
    )


def _leading_literal(term: str, limit: int = 2) -> str:
    """The first ``limit`` characters every match of ``term`` must start with ('' if unsure)."""
    if _has_top_level_bar(term):
        return ""
    out: list[str] = []
    i = 0
    while i < len(term) and len(out) < limit:
        ch = term[i]
        step = 1
        if ch == "\\":
            if i + 1 >= len(term) or term[i + 1].isalnum():
                break  # a class such as \w or \d, or a dangling backslash
            ch, step = term[i + 1], 2
        elif ch in _REGEX_META:
            break
        if i + step < len(term) and term[i + step] in _QUANTIFIERS:
            break  # optional or repeated: not a fixed start
        out.append(ch)
        i += step
    return "".join(out)


def _has_top_level_bar(term: str) -> bool:
    depth, i = 0, 0
    in_class = False
    while i < len(term):
        ch = term[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def _trie_alternation(terms: list[tuple[str, str]]) -> str:
    """One alternation of ``terms`` (pattern, group name), grouped by leading literals."""
    tree: dict[str, dict[str, list[tuple[str, str]]]] = {}
    loose: list[tuple[str, str]] = []
    for term, name in terms:
        head = _leading_literal(term)
        if not head:
            loose.append((term, name))
            continue
        rest = term[_literal_source_length(term, len(head)) :]
        tree.setdefault(head[0], {}).setdefault(head[1:], []).append((rest, name))
    parts: list[str] = []
    for first, seconds in tree.items():
        inner = []
        for second, rests in sorted(seconds.items(), key=lambda kv: -len(kv[0])):
            alts = "|".join(f"(?:{r})(?P<{n}>)" for r, n in _longest_first(rests))
            inner.append(f"{re.escape(second)}(?:{alts})" if second else alts)
        parts.append(f"{re.escape(first)}(?:{'|'.join(inner)})")
    parts.extend(f"(?:{t})(?P<{n}>)" for t, n in _longest_first(loose))
    return "|".join(parts) or "(?!x)x"


def _literal_source_length(term: str, chars: int) -> int:
    """How many characters of the pattern source spell its first ``chars`` literal characters."""
    i = 0
    for _ in range(chars):
        i += 2 if term[i] == "\\" else 1
    return i


def _longest_first(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(items, key=lambda item: -len(item[0]))
