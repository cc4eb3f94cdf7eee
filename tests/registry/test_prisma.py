"""ClinicalTrials.gov is a source of its own in the PRISMA numbers (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlmodel import Session

from services.pipeline.store import ensure_review, store_records
from services.records import Record as ParsedRecord
from services.reports.prisma import Source, prisma_numbers, sources
from services.reports.prisma_svg import render_svg
from services.runtime import Runtime
from tests.registry.helpers import sweep
from tests.registry.server import FakeRegistry
from tests.registry.studies import nct, study


def test_registrations_are_identified_via_the_register(
    runtime: Runtime, registry: FakeRegistry
) -> None:
    registry.replace([study(nct(i)) for i in range(3)])
    sweep(runtime, registry)
    with Session(runtime.engine) as session:
        review = ensure_review(session=session, protocol=runtime.protocol("registry"))
        assert review.id is not None
        store_records(  # a record with no source of its own (added by hand)
            session=session,
            records=[ParsedRecord(pmid="30000001", title="By hand")],
            review_id=review.id,
            sweep_id=None,
        )
        session.commit()
        assert sources(session=session, review_id=review.id) == (
            Source("PubMed", "database", 0),
            Source("ClinicalTrials.gov", "register", 3),
            Source("other", "other", 1),
        )
        numbers = prisma_numbers(session=session, review=review, required=1)
        assert numbers.flow.identified == 4
        assert "ClinicalTrials.gov (n\u00a0=\u00a03)" in render_svg(numbers).decode()
