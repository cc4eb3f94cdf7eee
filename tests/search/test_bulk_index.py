"""Records a sweep or an import stores are indexed for search in bulk (one statement per
batch on SQLite) and are found exactly as records indexed row by row; the row-by-row
trigger keeps indexing every other insert, also after a batch that failed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from services.db.models import Review
from services.pipeline.store import store_records
from services.records import Record as ParsedRecord
from services.search.fulltext import DEFERRAL_TABLE, insert_indexed_in_bulk
from tests.search.test_search import found
from tests.web import factories as f
from tests.web.conftest import Env


def stored(env: Env, *records: ParsedRecord) -> None:
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        review = s.execute(sa.text("SELECT id FROM reviews")).scalar()
        if review is None:
            review = f.review(s, proto).id
        store_records(session=s, records=list(records), review_id=review, sweep_id=None)
        s.commit()


def parsed(pmid: str, **fields: object) -> ParsedRecord:
    values: dict = {"pmid": pmid, "title": f"Record {pmid}", "abstract": "Plain text."}
    return ParsedRecord(**(values | fields))  # type: ignore[arg-type]


def test_every_field_of_a_stored_batch_is_searchable(env: Env) -> None:
    stored(
        env,
        parsed("1", title="Microdosing psilocybin in adults", authors=["Okafor, Ngozi"],
               journal="Psychopharmacology", mesh_terms=["Hallucinogens"],
               keywords=["creativity"]),
        parsed("2", abstract="Sleep diaries over a year.", authors=["Kim, B"]),
    )  # fmt: skip
    assert found(env, "title:psilocybin") == ["1"]
    assert found(env, "author:okafor") == ["1"]
    assert found(env, 'journal:"psychopharmacology"') == ["1"]
    assert found(env, "abstract:hallucinogens") == ["1"]  # MeSH terms count as abstract
    assert found(env, "creativity") == ["1"]
    assert found(env, '"sleep diaries"') == ["2"]
    assert set(found(env, "record*")) == {"2"}  # record 1 has its own title


def test_other_inserts_are_still_indexed_one_by_one(env: Env) -> None:
    stored(env, parsed("1", title="Psilocybin and mood"))
    with env.session() as s:
        if env.engine.dialect.name == "sqlite":
            assert s.execute(sa.text(f"SELECT count(*) FROM {DEFERRAL_TABLE}")).scalar() == 0
        review = s.exec(select(Review)).one()
        f.record(s, review, "9", title="Esketamine nasal spray")  # a plain ORM insert
        s.commit()
    assert found(env, "esketamine") == ["9"]
    assert found(env, "psilocybin") == ["1"]


def test_a_failed_batch_leaves_the_trigger_indexing(env: Env) -> None:
    def failing() -> None:
        raise RuntimeError("disk on fire")

    with env.session() as s:
        with pytest.raises(RuntimeError, match="disk on fire"):
            insert_indexed_in_bulk(s, failing)
        if env.engine.dialect.name == "sqlite":  # gone within the same transaction
            assert s.execute(sa.text(f"SELECT count(*) FROM {DEFERRAL_TABLE}")).scalar() == 0
    with env.session() as s:
        f.record(s, f.review(s, f.protocol()), "5", title="Ketamine infusion")
        s.commit()
    assert found(env, "ketamine") == ["5"]
