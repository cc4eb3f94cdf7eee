"""Registrations linked to the review's records citing their NCT id (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from services.cli import main
from services.db.imports import DuplicateMember
from services.db.models import Record
from services.pipeline.dedup import deduplicate_review
from services.pipeline.store import ensure_review, store_records
from services.records import Record as ParsedRecord
from services.registry.links import link_registrations, list_links
from services.runtime import Runtime
from services.settings import get_settings
from tests.registry.conftest import PROTOCOL
from tests.registry.helpers import sweep
from tests.registry.server import FakeRegistry
from tests.registry.studies import nct, study


def add_publications(runtime: Runtime, *records: ParsedRecord) -> dict[str, int]:
    """Store records as a PubMed sweep would, in the review; their ids by key."""
    with Session(runtime.engine) as session:
        review = ensure_review(session=session, protocol=runtime.protocol("registry"))
        assert review.id is not None
        store_records(session=session, records=records, review_id=review.id, sweep_id=None)
        session.commit()
    with Session(runtime.engine) as session:
        rows = session.exec(select(Record.pmid, Record.id)).all()
        return {key: record_id for key, record_id in rows if record_id is not None}


def test_a_sweep_links_registrations_to_records_citing_them(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    ids = add_publications(
        runtime,
        ParsedRecord(pmid="30000001", title="Results of a microdosing trial", nct_ids=[nct(1)]),
        ParsedRecord(pmid="30000002", title="Two trials", nct_ids=[nct(1), "nct09900002"]),
        ParsedRecord(pmid="30000003", title="Another trial", nct_ids=["NCT01111111"]),
        ParsedRecord(pmid="30000004", title="No trial named"),
    )
    registry.replace([study(nct(1)), study(nct(2)), study(nct(3))])
    report = sweep(runtime, registry)
    assert report.links == 3  # 30000003 names a trial the review does not hold
    with Session(runtime.engine) as session:
        review_id = ensure_review(session=session, protocol=runtime.protocol("registry")).id
        assert review_id is not None
        links = list_links(session=session, review_id=review_id)
        assert [(link.nct_id, link.record_key) for link in links] == [
            (nct(1), "30000001"),
            (nct(1), "30000002"),
            (nct(2), "30000002"),  # matched whatever the case the record wrote it in
        ]
        registration = next(link.registration_id for link in links if link.nct_id == nct(2))
        of_registration = list_links(session=session, review_id=review_id, record_id=registration)
        assert [link.record_key for link in of_registration] == ["30000002"]
        of_record = list_links(session=session, review_id=review_id, record_id=ids["30000002"])
        assert [link.nct_id for link in of_record] == [nct(1), nct(2)]
        # a link, not a duplicate: both reports stay in the queue
        assert session.exec(select(DuplicateMember)).first() is None
        # refreshing again adds nothing
        assert link_registrations(session=session, review_id=review_id) == 0
    registry.requests.clear()
    assert sweep(runtime, registry).links == 0


def test_a_registration_is_never_grouped_with_a_paper_of_the_same_title(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(1))])  # "Low-Dose Psilocybin for Low Mood in Adults", 2025
    sweep(runtime, registry)
    paper = ParsedRecord(
        pmid="30000001", title="Low-dose psilocybin for low mood in adults.", year=2025,
        authors=["Smith J"],
    )  # fmt: skip
    # the same paper from an import (no PMID, so its key is a "ref:" digest)
    twin = ParsedRecord(pmid="ref:00000000000001", title=paper.title, year=2025)
    twin.authors = ["Smith J"]
    add_publications(runtime, paper, twin)
    with Session(runtime.engine) as session:
        review_id = ensure_review(session=session, protocol=runtime.protocol("registry")).id
        assert review_id is not None
        assert deduplicate_review(session=session, review_id=review_id).groups == 1
        session.commit()
        members = session.exec(select(DuplicateMember.record_id)).all()
        keys = session.exec(select(Record.pmid).where(col(Record.id).in_(members))).all()
        # the two papers, not the registration
        assert sorted(keys) == ["30000001", "ref:00000000000001"]


def test_a_record_swept_later_is_linked_at_the_next_registry_sweep(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(5))])
    assert sweep(runtime, registry).links == 0
    add_publications(runtime, ParsedRecord(pmid="30000009", title="Later", nct_ids=[nct(5)]))
    assert sweep(runtime, registry).links == 1


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, runtime: Runtime, tmp_path: Path, registry: FakeRegistry
) -> Path:
    (tmp_path / "registry.toml").write_text(PROTOCOL)
    monkeypatch.setenv(
        "LIVESCREEN_DATABASE_URL", runtime.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(tmp_path / "registry.toml"))
    monkeypatch.setenv("LIVESCREEN_CLINICALTRIALS_URL", registry.base_url)
    monkeypatch.setenv("LIVESCREEN_CLINICALTRIALS_REQUESTS_PER_MINUTE", "60000")
    get_settings.cache_clear()
    return tmp_path


def test_cli_lists_links(
    cli_env: Path, runtime: Runtime, registry: FakeRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        assert main(["registry", "links"]) == 0
        assert capsys.readouterr().out.startswith("no registration is cited")
        add_publications(runtime, ParsedRecord(pmid="30000001", title="Cites", nct_ids=[nct(1)]))
        registry.replace([study(nct(1))])
        assert main(["registry", "sweep"]) == 0
        assert "new links 1;" in capsys.readouterr().out
        assert main(["registry", "links"]) == 0
        assert f"{nct(1)} (record " in capsys.readouterr().out
        assert main(["registry", "links", "--json"]) == 0
        (link,) = json.loads(capsys.readouterr().out)
        assert (link["nct_id"], link["record_key"]) == (nct(1), "30000001")
    finally:
        get_settings.cache_clear()
