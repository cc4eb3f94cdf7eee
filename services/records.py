"""The record interchange format: what the parser yields, the store keeps and exports emit.

One definition so the PubMed parser, the database, ``livescreen export`` and
``livescreen classify`` agree on field names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Field names of one JSON line of `livescreen export --format jsonl`, in order.
EXPORT_FIELDS: tuple[str, ...] = (
    "pmid",
    "title",
    "abstract",
    "abstract_sections",
    "journal",
    "year",
    "doi",
    "publication_types",
    "mesh_terms",
    "keywords",
    "authors",
    "language",
    "nct_ids",
    "version",
)


@dataclass(slots=True)
class AbstractSection:
    label: str
    text: str


@dataclass(slots=True)
class RetractionLink:
    """A CommentsCorrections link saying this record retracts, or is retracted by, another."""

    ref_type: str  # "RetractionIn" or "RetractionOf"
    pmid: str | None
    source: str = ""


@dataclass(slots=True)
class Record:
    pmid: str
    version: int = 1
    title: str = ""
    abstract: str | None = None
    abstract_sections: list[AbstractSection] = field(default_factory=list)
    journal: str = ""
    year: int | None = None
    doi: str | None = None
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    nct_ids: list[str] = field(default_factory=list)
    retractions: list[RetractionLink] = field(default_factory=list)
    is_book: bool = False

    def to_export(self) -> dict[str, Any]:
        """The interchange dict (exactly EXPORT_FIELDS)."""
        data = asdict(self)
        return {name: data[name] for name in EXPORT_FIELDS}

    def to_json(self) -> dict[str, Any]:
        """Everything, for storage; round-trips through ``Record.from_json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        values = dict(data)
        values["abstract_sections"] = [
            AbstractSection(**s) for s in values.get("abstract_sections") or []
        ]
        values["retractions"] = [RetractionLink(**r) for r in values.get("retractions") or []]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(slots=True)
class Deletion:
    """A PMID that PubMed withdrew (DeleteCitation)."""

    pmid: str


@dataclass(slots=True)
class Quarantined:
    """A record that could not be parsed; kept with the reason so nothing is silently lost."""

    pmid: str | None
    reason: str
    xml: str
