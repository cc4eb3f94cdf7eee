"""The PRISMA numbers equal the database's counts, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from services.db.imports import DUPLICATE, DuplicateMember, ImportRecord
from services.db.models import Record, Review, ReviewRecord
from services.reports.prisma import PrismaNumbers, prisma_numbers
from services.runtime import Runtime
from tests.reports.scenario import EXPECTED, SLUG, add_second_sweep, build, runtime

__all__ = ["runtime"]


def numbers(runtime: Runtime) -> PrismaNumbers:
    with runtime.sessions() as session:
        review = session.exec(select(Review).where(Review.slug == SLUG)).one()
        return prisma_numbers(session=session, review=review, required=1)


def as_dict(result: PrismaNumbers) -> dict[str, object]:
    flow = result.flow
    return {
        "sources": [(s.name, s.records) for s in flow.sources],
        "identified": flow.identified,
        "duplicates_removed": flow.duplicates_removed,
        "withdrawn": flow.withdrawn,
        "screened": flow.screened,
        "awaiting": flow.awaiting,
        "excluded": flow.excluded,
        "excluded_by_reason": list(flow.excluded_by_reason),
        "reports_assessed": flow.reports_assessed,
        "included": flow.included,
    }


def test_numbers_of_sweeps_an_import_with_duplicates_and_decisions(
    runtime: Runtime, tmp_path: Path
) -> None:
    review_id = build(runtime, tmp_path)
    result = numbers(runtime)
    assert as_dict(result) == EXPECTED
    assert not result.updated and result.total_included == 1
    flow = result.flow
    with runtime.sessions() as session:

        def count(*where: object) -> int:
            stmt = sa.select(sa.func.count()).select_from(ReviewRecord).join(
                Record, col(Record.id) == col(ReviewRecord.record_id)
            ).where(col(ReviewRecord.review_id) == review_id, *where)  # fmt: skip
            return int(session.execute(stmt).scalar_one())

        grouped = session.execute(
            sa.select(sa.func.count()).select_from(DuplicateMember).where(
                col(DuplicateMember.review_id) == review_id, col(DuplicateMember.role) == DUPLICATE
            )
        ).scalar_one()  # fmt: skip
        stored_imports = session.execute(
            sa.select(sa.func.count()).select_from(ImportRecord)
        ).scalar_one()
        assert count() == 8 and grouped == 1 and stored_imports == 3
        assert count(col(Record.deleted).is_(True)) == flow.withdrawn
        assert count() - grouped - flow.withdrawn == flow.screened + flow.awaiting
    # The flow adds up: what was identified, less what was removed, is what reached screening.
    assert flow.identified - flow.duplicates_removed - flow.withdrawn == (
        flow.screened + flow.awaiting
    )


def test_a_second_sweep_splits_previous_studies_from_new_ones(
    runtime: Runtime, tmp_path: Path
) -> None:
    review_id = build(runtime, tmp_path)
    add_second_sweep(runtime, review_id)
    result = numbers(runtime)
    assert result.updated and result.since is not None
    assert result.previous_included == 1
    assert [(s.name, s.records) for s in result.flow.sources] == [("PubMed", 2)]
    flow = result.flow
    assert (flow.identified, flow.duplicates_removed, flow.withdrawn) == (2, 0, 0)
    assert (flow.screened, flow.awaiting, flow.excluded, flow.included) == (1, 1, 0, 1)
    assert result.total_included == 2


def test_a_review_without_decisions_has_everything_awaiting(runtime: Runtime) -> None:
    from services.pipeline.store import ensure_review

    with runtime.sessions() as session:
        ensure_review(session=session, protocol=runtime.protocol(SLUG))
        session.commit()
    flow = numbers(runtime).flow
    assert [(s.name, s.records) for s in flow.sources] == [("PubMed", 0)]
    assert (flow.identified, flow.screened, flow.awaiting, flow.included) == (0, 0, 0, 0)
    assert flow.excluded_by_reason == ()


def test_records_without_a_source_and_exclusions_by_a_resolver_are_counted(
    runtime: Runtime,
) -> None:
    """A record with no sweep or import on file is an ``other`` source; a resolver's exclude
    over a reviewer's include counts as excluded, with no reason given."""
    from services.db.reviewing import Resolution
    from services.pipeline.store import ensure_review
    from services.web.accounts import create_user
    from tests.reports.scenario import decide
    from tests.web import factories as f

    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(SLUG))
        assert review.id is not None
        one = f.record(session, review, "1")
        f.record(session, review, "2")
        user, _ = create_user(session=session, name="res", role="resolver")
        assert user.id is not None and one.id is not None
        decide(session, review.id, user.id, one.id, "include")
        session.add(
            Resolution(review_id=review.id, record_id=one.id, user_id=user.id, decision="exclude")
        )
        session.commit()
    flow = numbers(runtime).flow
    assert [(s.name, s.records) for s in flow.sources] == [("PubMed", 0), ("other", 2)]
    assert (flow.screened, flow.awaiting, flow.excluded, flow.included) == (1, 1, 1, 0)
    assert flow.excluded_by_reason == (("no reason given", 1),)
