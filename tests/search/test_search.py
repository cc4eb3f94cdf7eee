"""Every query form, filter and sort finds the same records on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from services.db.engine import alembic_config, make_engine, migrate
from services.search import Filters, QueryError, parse, search_records
from tests.search.conftest import Corpus, machine_decision
from tests.web import factories as f
from tests.web.conftest import Env


def found(env: Env, raw: str, filters: Filters | None = None, sort: str | None = None) -> list[str]:
    with env.session() as s:
        review_id = s.execute(sa.text("SELECT id FROM reviews")).scalar_one()
        total, rows = search_records(
            session=s, review_id=review_id, required=1, query=parse(raw), filters=filters, sort=sort
        )
    assert total == len(rows)
    return [record.pmid for record, _, _ in rows]


@pytest.mark.parametrize(
    ("raw", "pmids"),
    [
        ("", {"1", "2", "3", "4"}),
        ("psilocybin mood", {"1", "2"}),
        ("MOOD Psilocybin", {"1", "2"}),
        ('"psilocybin microdosing"', {"1"}),
        ('"microdosing psilocybin"', set()),
        ('"placebo controlled"', {"1"}),
        ("placebo-controlled", {"1"}),
        ('"0.5 mg"', {"1"}),
        ("psilocyb*", {"1", "2", "3", "4"}),
        ("psilocybe", {"4"}),
        ('"treatment resist*"', {"4"}),
        ("author:smith", {"1", "3"}),
        ('author:"smith anna"', {"1"}),
        ("author:smi*", {"1", "3"}),
        ("author:psilocybin", set()),
        ("journal:psychopharmacology", {"1", "3"}),
        ('journal:"psychedelic stud"', {"2"}),
        ("title:psilocybin", {"1", "2"}),
        ("abstract:hallucinogens", {"1"}),
        ("hallucinogens", {"1"}),
        ("year:2019..2021", {"1", "2"}),
        ("year:>=2021", {"2", "3"}),
        ("year:2015", {"4"}),
        ("year:<2019", {"4"}),
        ("psilocybin year:>=2020", {"2", "3"}),
        ("pmid:2", {"2"}),
        ("3", {"3"}),
        ("doi:10.1000/abc", {"1"}),
        ("10.1000/ABC", {"1"}),
        ("nct:NCT01234567", {"1"}),
        ("NCT01234567 mood", {"1"}),
        ("nct:NCT07654321", set()),
        ("and or not", set()),
    ],
)
def test_query_forms(env: Env, corpus: Corpus, raw: str, pmids: set[str]) -> None:
    assert set(found(env, raw)) == pmids


def test_filters_by_machine_decision_and_criterion_verdict(env: Env, corpus: Corpus) -> None:
    assert set(found(env, "", Filters(machine="include"))) == {"1"}
    assert set(found(env, "", Filters(machine="exclude"))) == {"2", "4"}
    assert set(found(env, "", Filters(machine="unscreened"))) == {"3"}
    machine_decision(env, "4", "uncertain")
    assert set(found(env, "", Filters(machine="uncertain"))) == {"4"}
    assert set(found(env, "", Filters(criteria=(("low_dose", "not_met"),)))) == {"2"}
    assert found(env, "mood", Filters(criteria=(("low_dose", "met"),))) == ["1"]
    assert set(found(env, "", Filters(status="pending"))) == {"1", "2", "3", "4"}
    assert found(env, "", Filters(status="included")) == []


def test_sorts(env: Env, corpus: Corpus) -> None:
    assert found(env, "") == ["4", "3", "2", "1"]  # newest first
    assert found(env, "", sort="p_include") == ["1", "2", "4", "3"]  # unscreened last
    assert found(env, "", sort="year") == ["3", "2", "1", "4"]
    ranked = found(env, "psilocybin")  # relevance: title matches before abstract-only ones
    assert set(ranked[:2]) == {"1", "2"} and ranked[2] == "3"
    assert found(env, "psilocybin", sort="newest") == ["3", "2", "1"]
    with pytest.raises(QueryError, match="sort must be one of"):
        found(env, "", sort="colour")


def test_paging(env: Env, corpus: Corpus) -> None:
    with env.session() as s:
        review_id = s.execute(sa.text("SELECT id FROM reviews")).scalar_one()
        pages = [
            search_records(
                session=s,
                review_id=review_id,
                required=1,
                query=parse("psilocyb*"),
                sort="p_include",
                offset=offset,
                limit=3,
            )
            for offset in (0, 3, 9)
        ]
    assert [total for total, _ in pages] == [4, 4, 4]  # a page past the end still counts all
    assert [[r.pmid for r, _, _ in rows] for _, rows in pages] == [["1", "2", "4"], ["3"], []]


def test_the_index_follows_edits_and_deletions(env: Env, corpus: Corpus) -> None:
    with env.session() as s:
        s.execute(sa.text("UPDATE records SET title = 'Esketamine nasal spray' WHERE pmid = '4'"))
        s.execute(sa.text("DELETE FROM records WHERE pmid = '3'"))
        s.commit()
    assert found(env, "esketamine") == ["4"]
    assert found(env, "ketamine") == ["4"]  # still in its abstract
    assert found(env, "creativity") == []
    assert set(found(env, "psilocyb*")) == {"1", "2", "4"}


def test_migration_indexes_the_records_already_there(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0008")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO reviews (slug, title, query, protocol_version, created_at,"
                    " updated_at) VALUES ('micro', 'Micro', 'q', 'v1', :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO records (pmid, version, title, abstract, journal, year, data,"
                    " content_hash, deleted, retracted, created_at, updated_at) VALUES"
                    " ('7', 1, 'Old psilocybin record', NULL, 'J Old', 2001,"
                    " '{\"authors\": [\"Elder, Ann\"]}', 'h', false, false, :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO review_records (review_id, record_id, priority, added_at)"
                    " SELECT reviews.id, records.id, -1, :now FROM reviews, records"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
        migrate(engine)
        from services.db.engine import session_factory

        with session_factory(engine)() as s:
            review_id = s.execute(sa.text("SELECT id FROM reviews")).scalar_one()
            for raw in ("psilocybin", "author:elder", "journal:old"):
                total, _ = search_records(
                    session=s, review_id=review_id, required=1, query=parse(raw)
                )
                assert total == 1, raw
    finally:
        engine.dispose()


def test_a_blinded_reviewer_finds_no_conflicts(env: Env, corpus: Corpus) -> None:
    # Searching by status goes through the same blinding as every listing.
    from services.reviewing.status import Blinding

    with env.session() as s:
        review_id = s.execute(sa.text("SELECT id FROM reviews")).scalar_one()
        s.execute(sa.text("UPDATE review_records SET conflict_at = CURRENT_TIMESTAMP"))
        s.commit()
        total, _ = search_records(
            session=s,
            review_id=review_id,
            required=1,
            query=parse("mood"),
            filters=Filters(status="conflict"),
            blinding=Blinding(user_id=1),
        )
        seen, _ = search_records(
            session=s,
            review_id=review_id,
            required=1,
            query=parse("mood"),
            filters=Filters(status="conflict"),
        )
    assert (total, seen) == (0, 2)
    assert f.CRITERIA  # the review's protocol is the factories' one
