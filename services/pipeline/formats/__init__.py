"""Export writers for a review's records with their human decisions (API and CLI alike).

Each writer takes an iterable of export rows (plain dicts, see ``export_row`` in
the web views) and yields text chunks, so a large review streams instead of
being built in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from services.pipeline.formats import csv_writer, jsonl, ris

Writer = Callable[[Iterable[dict[str, Any]]], Iterator[str]]

WRITERS: dict[str, tuple[Writer, str, str]] = {
    "jsonl": (jsonl.write, "application/x-ndjson", "jsonl"),
    "csv": (csv_writer.write, "text/csv; charset=utf-8", "csv"),
    "ris": (ris.write, "application/x-research-info-systems", "ris"),
}


def writer(name: str) -> tuple[Writer, str, str]:
    """(writer, media type, file extension) for ``name``; KeyError names the choices."""
    try:
        return WRITERS[name]
    except KeyError:
        raise KeyError(
            f"unknown export format {name!r}; choose one of {', '.join(WRITERS)}"
        ) from None
