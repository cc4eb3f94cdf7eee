"""Which fields of a record hold text, and how to read them case-blind.

Why a module of its own: every criterion reads the same fields the same way, and
offsets must stay those of the record as given so evidence can be highlighted in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from classifiers.types import TEXT_FIELDS


def text_fields(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (field, text) for the free-text fields that are present and non-empty."""
    for name in TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            yield name, value


def list_field(record: Mapping[str, Any], name: str) -> list[str]:
    """A list-of-strings field (publication_types, mesh_terms, keywords); [] when absent."""
    value = record.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def lower_text(text: str) -> str:
    """``text`` lower-cased with every offset unchanged (a few characters lower-case to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` is a ``\\w`` character (the definition of ``re`` for str patterns)."""
    return ch.isalnum() or ch == "_"
