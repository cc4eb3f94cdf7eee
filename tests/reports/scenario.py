"""A review with the history the PRISMA diagram summarises, built through the real store.

One PubMed sweep of five records (one later withdrawn), an import of a RIS file with a
DOI duplicate of a swept record, a record repeated within the file and a bad record, and
human decisions: one include, excludes with one reason, two reasons and none. What the
diagram must show for it is in ``EXPECTED``; ``add_second_sweep`` makes it an updated
review.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from services.db.models import Record, Sweep, utcnow
from services.db.reviewing import Decision
from services.imports.commands import run_import
from services.pipeline.store import ensure_review, mark_deleted, store_records
from services.records import Record as Parsed
from services.runtime import Runtime, build_runtime
from services.settings import Settings
from services.web.accounts import create_user

SLUG = "prisma"
PROTOCOL = f'slug = "{SLUG}"\ntitle = "PRISMA test"\nquery = "psilocybin"\n'

RIS = """TY  - JOUR
TI  - PSILOCYBIN MICRODOSING AND MOOD: A RANDOMISED TRIAL
AU  - Lee, Ann
PY  - 2021
DO  - https://doi.org/10.1000/PSI.1
ER  -
TY  - JOUR
TI  - Microdosing lysergide and creativity in working artists
AU  - Park, Chris
PY  - 2020
ER  -
TY  - JOUR
TI  - Sleep quality after repeated small doses of mushrooms
AU  - Kim, Bo
PY  - 2019
ER  -
TY  - JOUR
TI  - Sleep quality after repeated small doses of mushrooms
AU  - Kim, Bo
PY  - 2019
ER  -
TY  - JOUR
AU  - Nobody, N.
ER  -
"""

SWEPT = [
    Parsed(pmid="30000001", title="Psilocybin microdosing and mood: a randomised trial",
           abstract="Psilocybin microdoses versus placebo.", year=2021, doi="10.1000/psi.1",
           authors=["Lee A"]),
    Parsed(pmid="30000002", title="Ketamine infusions for treatment resistant depression",
           abstract="An open label series.", year=2018, authors=["Ng T"]),
    Parsed(pmid="30000003", title="Mindfulness training for hospital nurses",
           abstract="A cluster trial.", year=2017, authors=["Ruiz M"]),
    Parsed(pmid="30000004", title="Cannabis use among adolescents in three cities",
           abstract="A survey.", year=2016, authors=["Oduya K"]),
    Parsed(pmid="30000005", title="Caffeine and sustained attention in pilots",
           abstract="A crossover study.", year=2015, authors=["Berg S"]),
]  # fmt: skip

# The numbers the diagram must show for the scenario (before a second sweep).
EXPECTED = {
    "sources": [("PubMed", 5), ("extra.ris", 4)],  # 3 stored + 1 repeated within the file
    "identified": 9,
    "duplicates_removed": 2,  # the repeat, and the DOI duplicate's non-primary member
    "withdrawn": 1,
    "screened": 4,
    "awaiting": 2,
    "excluded": 3,
    "excluded_by_reason": [("low_dose", 2), ("controlled", 1), ("no reason given", 1)],
    "reports_assessed": 1,
    "included": 1,
}


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    protocol = tmp_path / f"{SLUG}.toml"
    protocol.write_text(PROTOCOL)
    settings = Settings(database_url=database_url, protocols=[protocol])  # type: ignore[call-arg]
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def sweep(session: Session, review_id: int, records: list[Parsed]) -> None:
    row = Sweep(review_id=review_id, state="succeeded", mindate="2020/01/01",
                maxdate="2020/12/31", started_at=utcnow(), finished_at=utcnow())  # fmt: skip
    session.add(row)
    session.flush()
    store_records(session=session, records=records, review_id=review_id, sweep_id=row.id)


def record_id(session: Session, *, pmid: str | None = None, title: str | None = None) -> int:
    where = col(Record.pmid) == pmid if pmid else col(Record.title) == title
    found = session.exec(select(Record.id).where(where)).one()
    assert found is not None
    return found


def decide(
    session: Session, review_id: int, user_id: int, rid: int, decision: str, *reasons: str
) -> None:
    """A reviewer's current decision, as ``record_decision`` leaves it in the table."""
    session.add(Decision(review_id=review_id, record_id=rid, user_id=user_id,
                         decision=decision, reasons=list(reasons)))  # fmt: skip


def build(runtime: Runtime, tmp_path: Path) -> int:
    """The scenario in the database; returns the review's id."""
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(SLUG))
        assert review.id is not None
        review_id = review.id
        sweep(session, review_id, SWEPT)
        mark_deleted(session=session, pmids=["30000005"])
        session.commit()
    ris = tmp_path / "extra.ris"
    ris.write_text(RIS, encoding="utf-8")
    report = run_import(runtime, slug=SLUG, path=ris, fmt=None, screen=False).to_json()
    assert (report["read"], report["bad"], report["imported"]) == (5, 1, 3)
    with runtime.sessions() as session:
        user, _ = create_user(session=session, name="ann", role="reviewer")
        assert user.id is not None
        decide(session, review_id, user.id, record_id(session, pmid="30000002"), "include")
        decide(
            session, review_id, user.id, record_id(session, pmid="30000003"), "exclude", "low_dose"
        )
        lsd = record_id(session, title="Microdosing lysergide and creativity in working artists")
        decide(session, review_id, user.id, lsd, "exclude", "low_dose", "controlled")
        sleep = record_id(session, title="Sleep quality after repeated small doses of mushrooms")
        decide(session, review_id, user.id, sleep, "exclude")
        session.commit()
    return review_id


NEW = [
    Parsed(pmid="30000006", title="Psilocybin for alcohol use disorder: a trial",
           abstract="Two sessions versus placebo.", year=2022, authors=["Bogen M"]),
    Parsed(pmid="30000007", title="Breathing exercises before examinations",
           abstract="A pilot study.", year=2023, authors=["Quan L"]),
]  # fmt: skip


def add_second_sweep(runtime: Runtime, review_id: int) -> None:
    """A later sweep with two new records, one of them included: the review is updated."""
    with runtime.sessions() as session:
        sweep(session, review_id, NEW)
        user = session.exec(select(Decision.user_id)).first()
        assert user is not None
        decide(session, review_id, user, record_id(session, pmid="30000006"), "include")
        session.commit()
