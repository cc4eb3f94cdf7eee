"""Every retraction, republication and expression-of-concern signal sets the status.

No file in shared/data carries one, so each test adds the link (or the
publication type) to a real record, 27797938 in biopython/pubmed4.xml, whose
list already holds CommentIn and Cites links that must not count.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from services.db.engine import make_engine, migrate, session_factory, session_scope
from services.db.models import Record as StoredRecord
from services.db.models import Review
from services.pipeline.store import store_records
from services.pubmed.parse import parse_pubmed_xml
from services.records import Record, RetractionLink, RetractionStatus

S = RetractionStatus


def link(ref_type: str, pmid: str | None = "30000001", source: str = "Gut. 2019;68:1") -> bytes:
    pmid_xml = f'<PMID Version="1">{pmid}</PMID>' if pmid else ""
    return (
        f'<CommentsCorrections RefType="{ref_type}">'
        f"<RefSource>{source}</RefSource>{pmid_xml}</CommentsCorrections>"
    ).encode()


def pubmed4(shared_data: Path, *, links: bytes = b"", publication_type: str = "") -> bytes:
    text = (shared_data / "biopython" / "pubmed4.xml").read_bytes()
    edited = text.replace(b"<CommentsCorrectionsList>", b"<CommentsCorrectionsList>" + links, 1)
    if publication_type:
        edited = edited.replace(
            b"<PublicationTypeList>",
            b"<PublicationTypeList><PublicationType UI='D016441'>"
            + publication_type.encode()
            + b"</PublicationType>",
            1,
        )
    assert edited != text or not (links or publication_type)
    return edited


def parsed(document: bytes) -> Record:
    (record,) = parse_pubmed_xml(document)
    assert isinstance(record, Record)
    return record


def test_a_record_without_signals_is_none(shared_data: Path) -> None:
    record = parsed(pubmed4(shared_data))
    assert record.retractions == []  # its CommentIn and Cites links are not about retraction
    assert record.retraction_status is S.NONE


@pytest.mark.parametrize(
    ("ref_type", "status"),
    [
        ("RetractionIn", S.RETRACTED),  # a notice retracts this record
        ("RetractedandRepublishedIn", S.RETRACTED),  # retracted, a corrected version exists
        ("ExpressionOfConcernIn", S.EXPRESSION_OF_CONCERN),
        ("RetractedandRepublishedFrom", S.REPUBLISHED),  # the corrected version itself
        ("RetractionOf", S.NOTICE),  # this record is the notice
        ("ExpressionOfConcernFor", S.NOTICE),
    ],
)
def test_each_link_sets_its_status(
    shared_data: Path, ref_type: str, status: RetractionStatus
) -> None:
    record = parsed(pubmed4(shared_data, links=link(ref_type)))
    assert record.retractions == [RetractionLink(ref_type, "30000001", "Gut. 2019;68:1")]
    assert record.retraction_status is status


@pytest.mark.parametrize("ref_type", ["ErratumIn", "CommentIn", "UpdateIn", "RepublishedIn"])
def test_other_links_are_not_retraction_signals(shared_data: Path, ref_type: str) -> None:
    record = parsed(pubmed4(shared_data, links=link(ref_type)))
    assert record.retractions == []
    assert record.retraction_status is S.NONE


def test_retracted_publication_type_alone_marks_it_retracted(shared_data: Path) -> None:
    """NLM can add the type before the RetractionIn link arrives."""
    record = parsed(pubmed4(shared_data, publication_type="Retracted Publication"))
    assert record.retractions == []
    assert "Retracted Publication" in record.publication_types
    assert record.retraction_status is S.RETRACTED


def test_retraction_of_publication_type_is_a_notice(shared_data: Path) -> None:
    record = parsed(pubmed4(shared_data, publication_type="Retraction of Publication"))
    assert record.retraction_status is S.NOTICE


def test_strongest_signal_wins_and_links_stay_in_order(shared_data: Path) -> None:
    links = link("ExpressionOfConcernIn", "30000002") + link("RetractionIn", None, "Gut. 2020")
    record = parsed(pubmed4(shared_data, links=links))
    assert [(r.ref_type, r.pmid) for r in record.retractions] == [
        ("ExpressionOfConcernIn", "30000002"),
        ("RetractionIn", None),
    ]
    assert record.retraction_status is S.RETRACTED
    republished_then_concern = link("RetractedandRepublishedFrom") + link("ExpressionOfConcernIn")
    later = parsed(pubmed4(shared_data, links=republished_then_concern))
    assert later.retraction_status is S.EXPRESSION_OF_CONCERN


def test_status_survives_storage_round_trip(shared_data: Path) -> None:
    record = parsed(pubmed4(shared_data, links=link("RetractedandRepublishedFrom")))
    again = Record.from_json(record.to_json())
    assert again == record
    assert again.retraction_status is S.REPUBLISHED


def test_stored_retracted_flag_means_this_record_is_retracted(
    shared_data: Path, database_url: str
) -> None:
    """The records.retracted column is true only for a record that is itself retracted."""
    documents = {
        S.RETRACTED: pubmed4(shared_data, links=link("RetractedandRepublishedIn")),
        S.EXPRESSION_OF_CONCERN: pubmed4(shared_data, links=link("ExpressionOfConcernIn")),
        S.REPUBLISHED: pubmed4(shared_data, links=link("RetractedandRepublishedFrom")),
        S.NOTICE: pubmed4(shared_data, links=link("RetractionOf")),
        S.NONE: pubmed4(shared_data),
    }
    records = []
    for number, (status, document) in enumerate(documents.items()):
        record = parsed(document)
        record.pmid = str(90_000_001 + number)
        assert record.retraction_status is status
        records.append(record)
    by_type = parsed(pubmed4(shared_data, publication_type="Retracted Publication"))
    by_type.pmid = "90000099"
    records.append(by_type)

    engine = make_engine(database_url)
    try:
        migrate(engine)
        sessions = session_factory(engine)
        with session_scope(sessions) as session:
            review = Review(slug="r", title="r", query="q", protocol_version="1")
            session.add(review)
            session.flush()
            assert review.id is not None
            store_records(session=session, records=records, review_id=review.id, sweep_id=None)
        with session_scope(sessions) as session:
            rows = {row.pmid: row for row in session.exec(select(StoredRecord)).all()}
    finally:
        engine.dispose()
    assert {pmid for pmid, row in rows.items() if row.retracted} == {"90000001", "90000099"}
    statuses = [Record.from_json(rows[r.pmid].data).retraction_status for r in records]
    assert statuses == [*documents, S.RETRACTED]
