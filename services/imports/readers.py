"""One entry point over the readers: the items of a file in a given (or detected) format."""

from __future__ import annotations

from collections.abc import Iterator

from services.imports.items import ReadItem
from services.imports.jsonl import read_jsonl
from services.imports.nbib import read_nbib
from services.imports.ris import read_ris
from services.imports.source import Source
from services.imports.table import read_table
from services.imports.xml import read_pubmed_xml


def read_items(source: Source, fmt: str) -> Iterator[ReadItem]:
    """Stream the file's items; the file stays open only while they are being read."""
    if fmt == "pubmed-xml":
        yield from read_pubmed_xml(source.path)
        return
    if source.gzipped:
        from services.imports.items import FormatError

        raise FormatError(f"{source.path}: gzip is read only for PubMed XML")
    if fmt == "csv":
        with source.text(newline="") as text:
            yield from read_table(text, source.sample())
        return
    readers = {"ris": read_ris, "nbib": read_nbib, "jsonl": read_jsonl}
    with source.text() as text:
        yield from readers[fmt](text)
