"""MEDLINE/PubMed ``.nbib`` (PubMed's "Save: PubMed format"), read with Biopython's Medline.

``Bio.Medline.parse`` streams, but says nothing of line numbers; to name the line of a
bad record the text is cut at blank lines here (records are separated by one) and each
record is read with ``Bio.Medline.read``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from Bio import Medline

from services.imports.items import Bad, Items, checked, clean_doi, nct_ids_in, year_of
from services.records import Record

FIELD = re.compile(r"^[A-Z][A-Z0-9 ]{1,3}- ")


def chunks(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) of each record; records are separated by blank lines."""
    current: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n").lstrip("\ufeff")
        if not line.strip():
            if current:
                yield start, current
                current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        yield start, current


def read_nbib(text: TextIO) -> Items:
    for start, lines in chunks(text):
        row = f"line {start}"
        if not FIELD.match(lines[0]):
            yield Bad(row, f"not a MEDLINE field: {lines[0][:60]!r}")
            continue
        try:
            entry = Medline.read(io.StringIO("\n".join(lines) + "\n"))
        except Exception as exc:  # Biopython's errors are not one type; report, go on
            yield Bad(row, f"unreadable MEDLINE record: {exc}")
            continue
        yield checked(row, to_record(entry))


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key, "")
    return " ".join(value) if isinstance(value, list) else str(value)


def _doi(entry: dict[str, Any]) -> str | None:
    for key in ("LID", "AID"):
        values = entry.get(key, [])
        for value in [values] if isinstance(values, str) else values:
            if value.endswith("[doi]"):
                return clean_doi(value)
    return None


def to_record(entry: dict[str, Any]) -> Record:
    title = _text(entry, "TI") or _text(entry, "BTI")
    abstract = _text(entry, "AB") or None
    languages = list(entry.get("LA", []))
    secondary = [s for s in entry.get("SI", []) if "NCT" in s.upper()]
    return Record(
        pmid=_text(entry, "PMID").strip(),
        title=title,
        abstract=abstract,
        journal=_text(entry, "JT") or _text(entry, "TA"),
        year=year_of(_text(entry, "DP")),
        doi=_doi(entry),
        publication_types=list(entry.get("PT", [])),
        mesh_terms=[term.lstrip("*") for term in entry.get("MH", [])],
        keywords=list(entry.get("OT", [])),
        authors=list(entry.get("FAU", []) or entry.get("AU", [])),
        language=languages[0] if languages else None,
        languages=languages,
        nct_ids=nct_ids_in(*secondary) or nct_ids_in(abstract),
    )
