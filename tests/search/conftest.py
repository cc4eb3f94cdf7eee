"""The reviewer side's fixtures (a migrated database on SQLite and PostgreSQL, live servers)
and a small review whose records exercise every query form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests.web import factories as f
from tests.web.conftest import Env, client_for, env  # noqa: F401  (fixtures shared as they are)


@dataclass
class Corpus:
    """The review's slug, a reviewer's token, and PMID -> record id."""

    token: str
    ids: dict[str, int]


RECORDS: list[dict[str, Any]] = [
    dict(
        pmid="1",
        title="Psilocybin microdosing and mood",
        abstract="A randomised placebo-controlled trial of low doses (0.5 mg).",
        authors=["Smith, Anna", "Doe, John"],
        journal="Psychopharmacology",
        year=2019,
        doi="10.1000/ABC",
        nct_ids=["NCT01234567"],
        mesh_terms=["Hallucinogens"],
        p_include=0.9,
        criteria={"low_dose": {"verdict": "met"}},
        age_days=4,
    ),
    dict(
        pmid="2",
        title="Mood after psilocybin",
        abstract="Open label study of mood in adults.",
        authors=["Jones, Beth"],
        journal="J Psychedelic Stud",
        year=2021,
        p_include=0.4,
        criteria={"low_dose": {"verdict": "not_met"}},
        age_days=3,
    ),
    dict(
        pmid="3",
        title="LSD and creativity",
        abstract="Microdosing LSD: psilocybin was not studied.",
        authors=["Smith, Carl"],
        journal="Psychopharmacology",
        year=2023,
        age_days=2,
    ),
    dict(
        pmid="4",
        title="Ketamine for depression",
        abstract="Ketamine infusion in treatment-resistant depression.",
        authors=["Brown, Dan"],
        journal="Depress Anxiety",
        year=2015,
        keywords=["psilocybe cubensis"],
        p_include=0.1,
        criteria={"low_dose": {"verdict": "unclear"}},
        age_days=1,
    ),
]


@pytest.fixture
def corpus(env: Env) -> Corpus:  # noqa: F811
    proto = f.protocol()
    env.add_protocol(proto)
    ids = {}
    with env.session() as s:
        rev = f.review(s, proto)
        for spec in RECORDS:
            spec = dict(spec)
            journal, year = spec.pop("journal"), spec.pop("year")
            row = f.record(s, rev, spec.pop("pmid"), **spec)
            row.journal, row.year = journal, year  # an update: the index must follow it
            s.add(row)
            s.flush()
            assert row.id is not None
            ids[row.pmid] = row.id
        token = f.user(s, "alice")
        s.commit()
    return Corpus(token=token, ids=ids)


def machine_decision(env: Env, pmid: str, decision: str) -> None:  # noqa: F811
    """Set one record's current machine decision (the factory only writes include/exclude)."""
    with env.session() as s:
        s.execute(
            sa.text(
                "UPDATE screenings SET decision = :decision"
                " WHERE record_id = (SELECT id FROM records WHERE pmid = :pmid)"
            ),
            {"decision": decision, "pmid": pmid},
        )
        s.commit()
