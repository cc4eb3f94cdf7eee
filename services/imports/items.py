"""What a reader yields per record: a good record, a bad one with its problem, or a deletion.

Readers never raise for one record's fault, so one bad record never sinks a file; ``row``
says where it is ("line 12" where lines are known, else "record 3") for the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.pipeline.screen import LIST_FIELDS, check_record
from services.records import Record

PMID_PATTERN = re.compile(r"^\d{1,9}$")
YEAR_PATTERN = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
NCT_PATTERN = re.compile(r"\b[Nn][Cc][Tt]\d{8}\b")


@dataclass(slots=True)
class Good:
    row: str
    record: Record
    # the human decisions and resolution a livescreen JSONL export carries with the record
    # ({"decisions": [...], "resolution": {...} | None}); restored only when asked
    history: dict[str, Any] | None = None


@dataclass(slots=True)
class Bad:
    row: str
    problem: str


@dataclass(slots=True)
class Deleted:
    """A DeleteCitation of a PubMed update file: the PMID was withdrawn."""

    row: str
    pmid: str


ReadItem = Good | Bad | Deleted
Items = Iterator[ReadItem]


class FormatError(ValueError):
    """The file as a whole cannot be read in the format asked for."""


def year_of(value: object) -> int | None:
    """The first plausible year in a date written any way ("2019///", "2011 Jun 3", 2019)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1500 <= value <= 2199 else None
    match = YEAR_PATTERN.search(str(value or ""))
    return int(match.group(1)) if match else None


def clean_doi(value: str | None) -> str | None:
    """A DOI without URL or "doi:" prefix or the nbib " [doi]" suffix; None when empty."""
    if not value:
        return None
    text = DOI_PREFIX.sub("", value.strip()).removesuffix("[doi]").strip()
    return text or None


def nct_ids_in(*texts: str | None) -> list[str]:
    found: dict[str, None] = {}
    for text in texts:
        if not text or ("NCT" not in text and "nct" not in text):
            continue  # most records name no trial; skip the regular expression
        for match in NCT_PATTERN.findall(text or ""):
            found[match.upper()] = None
    return list(found)


def checked(row: str, record: Record) -> Good | Bad:
    """The record if it can be stored and screened, else why not (one line)."""
    if record.pmid and not PMID_PATTERN.match(record.pmid):
        return Bad(row, f"PMID {record.pmid!r} is not a number")
    problem = check_record(  # the fields it checks, without copying the whole record
        {"title": record.title, "abstract": record.abstract}
        | {name: getattr(record, name) for name in LIST_FIELDS}
    )
    if problem:
        return Bad(row, problem)
    return Good(row, record)
