"""The store's batched upsert: what a sweep relies on when it stores, re-stores and revises.

Revised records are written in one executemany and review links in one upsert; these
tests pin what that must keep: counts, one version row per distinct content, the
newest version winning, content hashes, and which sweeps first and last saw a record.
Real records from the shared data, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select

from services.db.engine import session_scope
from services.db.models import Record, RecordVersion, ReviewRecord, Sweep
from services.pipeline.store import content_hash, ensure_review, store_records
from services.protocols import load_protocol
from services.pubmed.parse import iter_pubmed_xml
from services.records import Record as ParsedRecord
from services.runtime import Runtime, build_runtime
from services.settings import Settings


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    protocol = tmp_path / "store.toml"
    protocol.write_text('slug = "store"\ntitle = "Store"\nquery = "q"\n')
    rt = build_runtime(Settings(database_url=database_url, protocols=[protocol]))
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def parsed(shared_data: Path) -> list[ParsedRecord]:
    files = sorted((shared_data / "metapub" / "pmid_xml").glob("*.xml"))[:40]
    out = [i for f in files for i in iter_pubmed_xml(f) if isinstance(i, ParsedRecord)]
    assert len(out) >= 30
    return out


def setup(runtime: Runtime) -> tuple[int, list[int]]:
    """The review and two sweep rows to store under."""
    protocol = load_protocol(runtime.settings.protocols[0])
    with session_scope(runtime.sessions) as session:
        review = ensure_review(session=session, protocol=protocol)
        assert review.id is not None
        sweeps = [
            Sweep(review_id=review.id, state="running", mindate="2000/01/01", maxdate="2026/01/01")
            for _ in range(2)
        ]
        session.add_all(sweeps)
        session.flush()
        return review.id, [s.id for s in sweeps if s.id is not None]


def store(runtime: Runtime, records: list[ParsedRecord], review_id: int, sweep_id: int | None):
    with session_scope(runtime.sessions) as session:
        return store_records(
            session=session, records=records, review_id=review_id, sweep_id=sweep_id
        )


def test_a_batch_revised_at_once_replaces_each_record_and_keeps_every_version(
    runtime: Runtime, parsed: list[ParsedRecord]
) -> None:
    review_id, (first, second) = setup(runtime)
    assert store(runtime, parsed, review_id, first).counts["new"] == len(parsed)
    assert store(runtime, parsed, review_id, first).counts["unchanged"] == len(parsed)

    revised = [replace(r, version=r.version + 1, title=f"{r.title} (revised)") for r in parsed]
    outcome = store(runtime, revised, review_id, second)
    assert outcome.counts["updated"] == len(parsed)
    assert len(outcome.changed_ids) == len(parsed)

    with runtime.sessions() as session:
        rows = {r.pmid: r for r in session.exec(select(Record)).all()}
        versions = session.exec(select(RecordVersion)).all()
    assert len(versions) == 2 * len(parsed)
    for record in revised:
        row = rows[record.pmid]
        assert (row.title, row.version) == (record.title, record.version)
        assert row.data == record.to_json()
        assert row.content_hash == content_hash(record.to_json())


def test_an_older_version_in_a_batch_never_overwrites_a_newer_one(
    runtime: Runtime, parsed: list[ParsedRecord]
) -> None:
    review_id, (first, second) = setup(runtime)
    newer = [replace(r, version=3, title="newest") for r in parsed]
    store(runtime, newer, review_id, first)
    older = [replace(r, version=2, title="older") for r in parsed]
    assert store(runtime, older, review_id, second).counts["unchanged"] == len(parsed)
    with runtime.sessions() as session:
        assert {r.title for r in session.exec(select(Record)).all()} == {"newest"}


def test_links_keep_the_first_sweep_and_move_the_last(
    runtime: Runtime, parsed: list[ParsedRecord]
) -> None:
    review_id, (first, second) = setup(runtime)
    half = len(parsed) // 2
    store(runtime, parsed[:half], review_id, first)
    store(runtime, parsed, review_id, second)
    store(runtime, parsed, review_id, None)  # an import-like store: links stay as they are
    with runtime.sessions() as session:
        links = session.exec(select(ReviewRecord)).all()
        pmid_of = {r.id: r.pmid for r in session.exec(select(Record)).all()}
    assert len(links) == len(parsed)
    early = {r.pmid for r in parsed[:half]}
    for link in links:
        expected_first = first if pmid_of[link.record_id] in early else second
        assert (link.first_sweep_id, link.last_sweep_id) == (expected_first, second)
