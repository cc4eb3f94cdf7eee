"""CSV and other delimited text (spreadsheets, Rayyan and Covidence tables, ASReview files).

The delimiter is sniffed from the start of the file (comma, semicolon, tab or bar) and
columns are matched by name after folding case and dropping everything but letters and
digits, so "Title", "ARTICLE_TITLE" and "Publication Year" all find their field.
"""

from __future__ import annotations

import csv
import re
import sys
from typing import TextIO

from services.imports.items import (
    Bad,
    FormatError,
    Items,
    checked,
    clean_doi,
    nct_ids_in,
    year_of,
)
from services.records import Record

COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title", "articletitle", "primarytitle", "ti", "documenttitle", "name"),
    "abstract": ("abstract", "abstractnote", "ab", "summary", "abstracttext"),
    "doi": ("doi", "digitalobjectidentifier", "do"),
    "pmid": ("pmid", "pubmedid", "pubmed", "pmids"),
    "year": ("year", "publicationyear", "pubyear", "py", "yearpublished", "date", "pubdate"),
    "authors": ("authors", "author", "au", "authorlist", "authorfullnames", "firstauthor"),
    "journal": (
        "journal",
        "journaltitle",
        "publicationtitle",
        "source",
        "sourcetitle",
        "secondarytitle",
        "so",
        "jt",
    ),
}
SEMICOLONS = re.compile(r"\s*[;|]\s*")
GIVEN_FIRST = re.compile(r"\s*,\s*|\s+and\s+|\s*&\s*")  # "A. Smith, B. Jones and C. Lee"
MEDLINE_NAME = re.compile(r"^[^\W\d][\w'\- ]* [A-Z]{1,4}$")  # "Smith JA"
DELIMITERS = ",;\t|"


def fold(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def column_map(header: list[str]) -> dict[str, int]:
    """Field -> column index; the earliest spelling in COLUMNS wins when several are there."""
    folded = [fold(h) for h in header]
    found: dict[str, int] = {}
    for field_name, spellings in COLUMNS.items():
        for spelling in spellings:
            if spelling in folded:
                found[field_name] = folded.index(spelling)
                break
    return found


def sniff(sample: str) -> type[csv.Dialect] | csv.Dialect:
    sample = sample.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        return csv.excel


def read_table(text: TextIO, sample: str) -> Items:
    """``text`` must be opened with ``newline=""`` so quoted fields may hold line breaks."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # abstracts can be long
    reader = csv.reader(text, sniff(sample))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FormatError(f"unreadable CSV header: {exc}") from None
    columns = column_map([h.lstrip("\ufeff") for h in header])
    if "title" not in columns and "abstract" not in columns:
        raise FormatError(
            "no title or abstract column among: " + ", ".join(h.strip() for h in header[:12])
        )
    while True:
        where = f"line {reader.line_num + 1}"  # where the row starts (it may span lines)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Bad(where, f"unreadable CSV row: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        yield checked(where, to_record(row, columns))


def to_record(row: list[str], columns: dict[str, int]) -> Record:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    authors = split_authors(cell("authors"))
    abstract = cell("abstract") or None
    pmid = cell("pmid")
    return Record(
        pmid=pmid.removesuffix(".0"),  # a spreadsheet that took PMIDs for numbers
        title=cell("title"),
        abstract=abstract,
        journal=cell("journal"),
        year=year_of(cell("year")),
        doi=clean_doi(cell("doi")),
        authors=authors,
        nct_ids=nct_ids_in(cell("title"), abstract),
    )


def split_authors(cell: str) -> list[str]:
    """Authors from one cell: "Smith, J; Lee, K", "J. Smith, K. Lee and M. Wu", "Smith J, Lee K"."""
    if not cell:
        return []
    if SEMICOLONS.search(cell):
        parts = SEMICOLONS.split(cell)
    elif re.search(r"\s(and|&)\s", cell):
        parts = GIVEN_FIRST.split(cell)
    else:
        pieces = [p.strip() for p in cell.split(",")]
        parts = pieces if all(MEDLINE_NAME.match(p) for p in pieces) else [cell]
    return [p.strip() for p in parts if p.strip()]
