"""Text helpers shared by the criteria: which fields to read and where sentences are.

Offsets are always into the field's text exactly as given, so evidence can be
highlighted in the original record without re-normalising it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from classifiers.types import TEXT_FIELDS

# A sentence ends at . ! ? followed by space and an upper-case letter/digit/quote,
# or at a line break (structured abstracts). Decimal points ("0.5 mg") and common
# abbreviations ("e.g.", "vs.", "approx.") do not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "approx.", "ca.", "al.", "Fig.", "no.", "spp.", "sp.")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n+")


def text_fields(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (field, text) for the free-text fields that are present and non-empty."""
    for name in TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            yield name, value


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Half-open (start, end) spans of the sentences of ``text``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()]
        if match.group().strip() and before.endswith(_ABBREVIATIONS):
            continue
        _append_trimmed(text, start, match.start(), spans)
        start = match.end()
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
