"""RIS (EndNote, Zotero, Rayyan, Covidence exports), read record by record with ``rispy``.

rispy parses a whole file into a list; to keep memory flat on a 100,000-record file this
module cuts the text into one reference at a time (``TY`` to ``ER``, remembering the line
it started on) and lets rispy read each. Continuation lines (an EndNote keyword list, a
wrapped abstract) belong to the reference they are in, so rispy joins them as usual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import rispy

from services.imports.items import (
    PMID_PATTERN,
    Bad,
    Items,
    checked,
    clean_doi,
    nct_ids_in,
    year_of,
)
from services.records import Record

TAG = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")
PMID_IN_TEXT = re.compile(r"(?:PMID:?\s*|/pubmed/|pubmed\.ncbi\.nlm\.nih\.gov/)(\d{1,9})\b", re.I)
JOURNAL_KEYS = ("journal_name", "secondary_title", "alternate_title3", "alternate_title2")
_PARSER = rispy.RisParser()


def chunks(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number of its TY, its lines) per reference; text outside references is skipped."""
    current: list[str] | None = None
    start = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if number == 1:
            line = line.lstrip("\ufeff")
        if line.startswith("TY  -") and TAG.match(line):
            if current:  # a TY without an ER before it: the reference ends here
                yield start, current
            current, start = [line], number
        elif current is not None:
            current.append(line)
            if line.startswith("ER  -") and TAG.match(line):
                yield start, current
                current = None
    if current:
        yield start, current + ["ER  - "]


def read_ris(text: TextIO) -> Items:
    for start, lines in chunks(text):
        row = f"line {start}"
        try:
            parsed = _PARSER.parse_lines(iter(lines))
        except Exception as exc:  # rispy's own errors are not documented; report, go on
            yield Bad(row, f"unreadable RIS reference: {exc}")
            continue
        if not parsed:
            yield Bad(row, "unreadable RIS reference")
            continue
        yield checked(row, to_record(parsed[0]))


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value and str(value).strip():
            return str(value).strip()
    return ""


def _list(entry: dict[str, Any], key: str) -> list[str]:
    value = entry.get(key) or []
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def pmid_of(entry: dict[str, Any]) -> str:
    """The PMID where an export keeps one: AN of a PubMed-sourced record, notes or links."""
    accession = _first(entry, "accession_number")
    provider = " ".join(_list(entry, "database_provider") + _list(entry, "name_of_database"))
    if PMID_PATTERN.match(accession) and re.search(r"NLM|pubmed|medline", provider, re.I):
        return accession
    for key in ("notes", "note", "urls", "custom1", "custom2"):
        for value in _list(entry, key):
            match = PMID_IN_TEXT.search(value)
            if match:
                return match.group(1)
    return ""


def to_record(entry: dict[str, Any]) -> Record:
    title = _first(entry, "title", "primary_title", "translated_title", "short_title")
    abstract = _first(entry, "abstract", "notes_abstract") or None
    authors = _list(entry, "authors") or _list(entry, "first_authors")
    language = _first(entry, "language") or None
    return Record(
        pmid=pmid_of(entry),
        title=title,
        abstract=abstract,
        journal=_first(entry, *JOURNAL_KEYS),
        year=year_of(_first(entry, "year", "publication_year", "date")),
        doi=clean_doi(_first(entry, "doi")),
        keywords=_list(entry, "keywords"),
        authors=authors,
        language=language,
        languages=[language] if language else [],
        nct_ids=nct_ids_in(title, abstract),
    )
