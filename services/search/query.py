"""What reviewers type into the search box, read into terms; pure, no database.

A query is terms joined by AND, in any order: words, ``"quoted phrases"``, prefixes
(``psilocyb*``), and field terms (``author:``, ``journal:``, ``title:``, ``abstract:``,
``year:2019..2023`` / ``year:>=2020``, ``pmid:``, ``doi:``, ``nct:``). A malformed query
raises :class:`QueryError` with a sentence a reviewer can act on, so the API can answer
400 and the page can show it, instead of silently searching for something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Text fields and the full-text columns they restrict to; None is every column.
TEXT_FIELDS: dict[str, str | None] = {
    "author": "authors",
    "journal": "journal",
    "title": "title",
    "abstract": "abstract",
}
ID_FIELDS = ("pmid", "doi", "nct")
FIELDS = (*TEXT_FIELDS, "year", *ID_FIELDS)
MAX_TERMS = 20
TOKEN = re.compile(r"\w+", re.UNICODE)
YEAR_RANGE = re.compile(r"^(\d{4})?\.\.(\d{4})?$")
YEAR_CMP = re.compile(r"^(>=|<=|>|<|=)?(\d{4})$")
NCT = re.compile(r"^NCT\d{8}$", re.IGNORECASE)


class QueryError(ValueError):
    """A query the parser cannot read; the message says what to change."""


@dataclass(frozen=True)
class Text:
    """Words that must occur together in order (one word is a one-word phrase).

    ``tokens`` are lowercased runs of letters and digits, as both databases' full-text
    indexes split text, so ``5-HT2A`` searches the phrase ``5 ht2a``. ``prefix`` makes
    the last token match any word it begins. ``column`` restricts to one field."""

    tokens: tuple[str, ...]
    prefix: bool = False
    column: str | None = None


@dataclass(frozen=True)
class Year:
    """Publication years from ``low`` to ``high`` inclusive (None: open-ended)."""

    low: int | None
    high: int | None


@dataclass(frozen=True)
class Identifier:
    """An exact PMID, DOI (case-insensitive) or NCT number."""

    field: str
    value: str


Term = Text | Year | Identifier


@dataclass(frozen=True)
class Query:
    """Every term must hold. An empty query matches everything."""

    terms: tuple[Term, ...] = ()

    @property
    def texts(self) -> tuple[Text, ...]:
        return tuple(t for t in self.terms if isinstance(t, Text))


def tokens_of(text: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in TOKEN.findall(text.replace("_", " ")))


def _pieces(raw: str) -> list[tuple[str | None, str, bool]]:
    """(field, value, quoted) per whitespace-separated piece, honouring double quotes."""
    pieces: list[tuple[str | None, str, bool]] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        field: str | None = None
        match = re.match(r"([A-Za-z]+):", raw[i:])
        if match and match.group(1).lower() in FIELDS:
            field = match.group(1).lower()
            i += match.end()
        elif match and i + match.end() < n and not raw[i + match.end()].isspace():
            known = ", ".join(f"{f}:" for f in FIELDS)
            raise QueryError(f"Unknown field {match.group(1)!r}: use one of {known}.")
        if i < n and raw[i] == '"':
            end = raw.find('"', i + 1)
            if end < 0:
                raise QueryError('A quote is not closed: add the closing " or remove the ".')
            value, i = raw[i + 1 : end], end + 1
            star = i < n and raw[i] == "*"
            i += 1 if star else 0
            pieces.append((field, value + ("*" if star else ""), True))
            continue
        start = i
        while i < n and not raw[i].isspace():
            if raw[i] == '"':
                raise QueryError(
                    'A quote must start a phrase: write "two words" with spaces around.'
                )
            i += 1
        if field is not None and start == i:
            raise QueryError(f"{field}: needs a value right after the colon, as in {field}:value.")
        pieces.append((field, raw[start:i], False))
    return pieces


def _year(value: str) -> Year:
    ranged = YEAR_RANGE.match(value)
    if ranged and (ranged.group(1) or ranged.group(2)):
        low = int(ranged.group(1)) if ranged.group(1) else None
        high = int(ranged.group(2)) if ranged.group(2) else None
        if low is not None and high is not None and low > high:
            raise QueryError(f"year:{value} runs backwards: write the earlier year first.")
        return Year(low, high)
    compared = YEAR_CMP.match(value)
    if not compared:
        raise QueryError(
            f"year:{value} is not a year: write year:2020, year:2019..2023 or year:>=2020."
        )
    op, year = compared.group(1) or "=", int(compared.group(2))
    return {
        "=": Year(year, year),
        ">=": Year(year, None),
        ">": Year(year + 1, None),
        "<=": Year(None, year),
        "<": Year(None, year - 1),
    }[op]


def _identifier(field: str, value: str) -> Identifier:
    value = value.strip()
    if field == "pmid" and not value.isdigit():
        raise QueryError(f"pmid:{value} is not a PMID: a PMID is digits only.")
    if field == "nct" and not NCT.match(value):
        raise QueryError(f"nct:{value} is not an NCT number: write NCT and eight digits.")
    if field == "doi" and not value.startswith("10."):
        raise QueryError(f"doi:{value} is not a DOI: a DOI starts with 10.")
    return Identifier(field, value.upper() if field == "nct" else value.lower())


def _text(field: str | None, value: str, quoted: bool) -> Text | None:
    prefix = value.endswith("*")
    body = value.rstrip("*") if prefix else value
    if "*" in body:
        raise QueryError("A * may only end a word, as in psilocyb*.")
    tokens = tokens_of(body)
    if not tokens:
        if prefix or quoted:
            raise QueryError(f"{value!r} has no letters or digits to search for.")
        return None  # lone punctuation: nothing to search, nothing to complain about
    if prefix and len(tokens[-1]) < 2:
        raise QueryError("A prefix needs at least two letters before the *.")
    return Text(tokens, prefix, TEXT_FIELDS[field] if field else None)


def _bare_id(value: str) -> Identifier | None:
    """A pasted DOI or NCT number finds its record without the field name."""
    if value.startswith("10.") and "/" in value:
        return Identifier("doi", value.lower())
    if NCT.match(value):
        return Identifier("nct", value.upper())
    return None


def parse(raw: str) -> Query:
    """The terms of ``raw``; :class:`QueryError` when it cannot be read as typed."""
    terms: list[Term] = []
    pieces = _pieces(raw)
    if len(pieces) == 1 and pieces[0][0] is None and pieces[0][1].isdigit():
        return Query((Identifier("pmid", pieces[0][1]),))  # a number alone is a pasted PMID
    for field, value, quoted in pieces:
        term: Term | None
        if field == "year":
            term = _year(value)
        elif field in ID_FIELDS:
            term = _identifier(field, value)
        elif field is None and not quoted and _bare_id(value):
            term = _bare_id(value)
        else:
            term = _text(field, value, quoted)
        if term is not None:
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise QueryError(f"A query may have at most {MAX_TERMS} terms.")
    return Query(tuple(terms))
