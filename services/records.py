"""The record interchange format: what the parser yields, the store keeps and exports emit.

One definition so the PubMed parser, the database, ``livescreen export`` and
``livescreen classify`` agree on field names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
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
    "languages",
    "nct_ids",
    "version",
)


@dataclass(slots=True)
class AbstractSection:
    label: str
    text: str


class RetractionStatus(StrEnum):
    """Where a record stands with respect to retraction, read from its links and types.

    ``RETRACTED`` is the one that must stop a record being used as evidence; the
    others are kept apart because a reviewer acts differently on each: an
    expression of concern asks for caution, a republished record is the
    corrected replacement of a retracted one, and a notice is not a study at all.
    """

    NONE = "none"
    RETRACTED = "retracted"  # retracted (RetractionIn, RetractedandRepublishedIn, the type)
    EXPRESSION_OF_CONCERN = "expression_of_concern"  # ExpressionOfConcernIn, not retracted
    REPUBLISHED = "republished"  # RetractedandRepublishedFrom: replaces a retracted record
    NOTICE = "notice"  # RetractionOf, ExpressionOfConcernFor: a notice about another record


# CommentsCorrections RefTypes that bear on retraction, and what each says about *this* record.
RETRACTION_REF_TYPES: dict[str, RetractionStatus] = {
    "RetractionIn": RetractionStatus.RETRACTED,
    "RetractedandRepublishedIn": RetractionStatus.RETRACTED,
    "ExpressionOfConcernIn": RetractionStatus.EXPRESSION_OF_CONCERN,
    "RetractedandRepublishedFrom": RetractionStatus.REPUBLISHED,
    "RetractionOf": RetractionStatus.NOTICE,
    "ExpressionOfConcernFor": RetractionStatus.NOTICE,
}
# PublicationTypes that say the same without a link (NLM adds the type before the link at times).
RETRACTION_PUBLICATION_TYPES: dict[str, RetractionStatus] = {
    "Retracted Publication": RetractionStatus.RETRACTED,
    "Retraction of Publication": RetractionStatus.NOTICE,
}
# When several apply, the strongest warning wins: a record under a concern that is later
# retracted is retracted; a republished record that draws a concern is under concern.
_PRECEDENCE = (
    RetractionStatus.RETRACTED,
    RetractionStatus.EXPRESSION_OF_CONCERN,
    RetractionStatus.REPUBLISHED,
    RetractionStatus.NOTICE,
)


@dataclass(slots=True)
class RetractionLink:
    """A CommentsCorrections link about retraction, republication or expression of concern.

    ``ref_type`` is NLM's RefType, one of ``RETRACTION_REF_TYPES``.
    """

    ref_type: str
    pmid: str | None
    source: str = ""


def retraction_status(
    links: Iterable[RetractionLink], publication_types: Iterable[str]
) -> RetractionStatus:
    """The record's status from its retraction links and publication types (strongest first)."""
    found = {
        RETRACTION_REF_TYPES[link.ref_type]
        for link in links
        if link.ref_type in RETRACTION_REF_TYPES
    }
    found.update(
        RETRACTION_PUBLICATION_TYPES[kind]
        for kind in publication_types
        if kind in RETRACTION_PUBLICATION_TYPES
    )
    for status in _PRECEDENCE:
        if status in found:
            return status
    return RetractionStatus.NONE


def _link_dict(link: RetractionLink) -> dict[str, Any]:
    return {"ref_type": link.ref_type, "pmid": link.pmid, "source": link.source}


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
    language: str | None = None  # the first of ``languages``, kept for existing readers
    languages: list[str] = field(default_factory=list)
    nct_ids: list[str] = field(default_factory=list)
    retractions: list[RetractionLink] = field(default_factory=list)
    # ErratumIn links: a correction was published. Not a retraction (the evidence stands), but
    # a living review's included records are re-read when one appears.
    errata: list[RetractionLink] = field(default_factory=list)
    is_book: bool = False

    @property
    def retraction_status(self) -> RetractionStatus:
        """Derived, never stored, so it cannot disagree with the links and types it reads."""
        return retraction_status(self.retractions, self.publication_types)

    def to_export(self) -> dict[str, Any]:
        """The interchange dict (exactly EXPORT_FIELDS)."""
        data = self._as_dict()
        return {name: data[name] for name in EXPORT_FIELDS}

    def _as_dict(self) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives, written out: asdict deep-copies every value
        generically and was a quarter of an import's time (the store hashes each record).
        Lists are copied, so the dict never aliases the record; tests compare with asdict."""
        return {
            "pmid": self.pmid,
            "version": self.version,
            "title": self.title,
            "abstract": self.abstract,
            "abstract_sections": [
                {"label": s.label, "text": s.text} for s in self.abstract_sections
            ],
            "journal": self.journal,
            "year": self.year,
            "doi": self.doi,
            "publication_types": list(self.publication_types),
            "mesh_terms": list(self.mesh_terms),
            "keywords": list(self.keywords),
            "authors": list(self.authors),
            "language": self.language,
            "languages": list(self.languages),
            "nct_ids": list(self.nct_ids),
            "retractions": [_link_dict(link) for link in self.retractions],
            "errata": [_link_dict(link) for link in self.errata],
            "is_book": self.is_book,
        }

    def to_json(self) -> dict[str, Any]:
        """Everything, for storage; round-trips through ``Record.from_json``.

        ``languages`` is stored only when it says more than ``language`` (several
        languages), so a record stored before it existed keeps its content hash and is not
        taken for revised, and re-screened and alerted on, merely because the parser grew."""
        data = self._as_dict()
        if data["languages"] == ([self.language] if self.language else []):
            del data["languages"]
        if not data["errata"]:  # likewise: records without errata keep their hash
            del data["errata"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        values = dict(data)
        values["abstract_sections"] = [
            AbstractSection(**s) for s in values.get("abstract_sections") or []
        ]
        values["retractions"] = [RetractionLink(**r) for r in values.get("retractions") or []]
        values["errata"] = [RetractionLink(**r) for r in values.get("errata") or []]
        if "languages" not in values:  # stored before records carried every language
            values["languages"] = [values["language"]] if values.get("language") else []
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
