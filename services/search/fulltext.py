"""A parsed query's text terms as each database's own full-text match, with a relevance score.

SQLite reads the FTS5 table ``records_fts`` and PostgreSQL the stored ``search_vector``
column (``records_search_vector(...)``) and its GIN index, both built by migration 0010.
Both split text into runs of letters and digits without stemming or accent folding, so the
two give the same matches;
only the relevance figures differ (bm25 against ts_rank), with titles weighted highest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.models import Record
from services.search.query import Text

FTS_TABLE = "records_fts"
DEFERRAL_TABLE = "records_fts_deferral"  # migration 0015: its row makes the trigger skip
PG_FUNCTION = "records_search_vector"
PG_INDEX = "ix_records_search"
PG_COLUMN = "search_vector"  # records_search_vector(...), stored
# Columns of records_fts; ``abstract:`` covers the abstract, MeSH terms and keywords.
FTS_COLUMNS = {
    "title": "title",
    "abstract": "{abstract mesh keywords}",
    "authors": "authors",
    "journal": "journal",
}
BM25_WEIGHTS = (10.0, 4.0, 2.0, 1.0, 4.0, 4.0)  # title, abstract, authors, journal, mesh, kw
PG_LABELS = {"title": "A", "abstract": "B", "authors": "C", "journal": "D"}


def fts5_expression(texts: tuple[Text, ...]) -> str:
    """FTS5 MATCH text: every term a quoted phrase (so no word is read as an operator)."""
    parts = []
    for text in texts:
        phrase = '"' + " ".join(text.tokens) + '"' + ("*" if text.prefix else "")
        parts.append(f"{FTS_COLUMNS[text.column]} : {phrase}" if text.column else phrase)
    return " AND ".join(parts)


def tsquery_expression(texts: tuple[Text, ...]) -> str:
    """to_tsquery text: tokens joined by <-> in a phrase, weight labels for a field."""
    parts = []
    for text in texts:
        label = PG_LABELS[text.column] if text.column else ""
        words = []
        for i, token in enumerate(text.tokens):
            star = "*" if text.prefix and i == len(text.tokens) - 1 else ""
            words.append(f"{token}:{star}{label}" if star or label else token)
        parts.append("(" + " <-> ".join(words) + ")")
    return " & ".join(parts)


def matches(dialect: str, texts: tuple[Text, ...]) -> Any:
    """CTE (record_id, score) of the records matching every text term; higher is better.

    Materialized: otherwise SQLite may run the MATCH again for every row of the review."""
    if dialect == "postgresql":
        tsquery = sa.func.to_tsquery(
            sa.literal_column("'simple'::regconfig"),
            sa.bindparam("search_tsquery", tsquery_expression(texts)),
        )
        vector: Any = sa.literal_column(f"records.{PG_COLUMN}")
        return (
            sa.select(
                col(Record.id).label("record_id"), sa.func.ts_rank(vector, tsquery).label("score")
            )
            .where(vector.op("@@")(tsquery))
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
    fts = sa.table(FTS_TABLE, sa.column("rowid"))
    table: Any = sa.literal_column(FTS_TABLE)
    return (
        sa.select(
            fts.c.rowid.label("record_id"),
            (-sa.func.bm25(table, *BM25_WEIGHTS)).label("score"),
        )
        .select_from(fts)
        .where(table.op("MATCH")(sa.bindparam("search_match", fts5_expression(texts))))
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )


def not_search_table(name: str | None, type_: str, parent: Any) -> bool:
    """Alembic ``include_name`` hook: the FTS5 tables and the tsvector index are the
    migration's alone (no model can describe them), so comparisons leave them out."""
    if type_ == "index":
        return name != PG_INDEX
    if type_ == "column":
        return name != PG_COLUMN
    return not (type_ == "table" and (name or "").startswith(FTS_TABLE))


def _listed(key: str) -> str:
    return f"(SELECT group_concat(value, ' ') FROM json_each(records.data, '$.{key}'))"


# What the insert trigger writes per row, for every row past :after at once.
_BULK_INDEX = sa.text(
    f"INSERT INTO {FTS_TABLE}(rowid, title, abstract, authors, journal, mesh, keywords) "
    f"SELECT records.id, records.title, coalesce(records.abstract, ''), {_listed('authors')}, "
    f"records.journal, {_listed('mesh_terms')}, {_listed('keywords')} "
    "FROM records WHERE records.id > :after"
)


def insert_indexed_in_bulk(session: Session, insert: Callable[[], None]) -> None:
    """Run ``insert`` (new rows into ``records``) and index its rows for search in one
    statement: on SQLite a third of the cost of the insert trigger's row-by-row indexing.

    The deferral row goes in first, which takes SQLite's write lock, so no other
    connection can insert between reading the highest id and indexing past it; it is
    deleted before the transaction ends (also when ``insert`` fails), so no other
    connection ever sees the trigger skip. PostgreSQL's generated column needs nothing.
    """
    if session.get_bind().dialect.name != "sqlite":
        insert()
        return
    connection = session.connection()
    connection.exec_driver_sql(f"INSERT INTO {DEFERRAL_TABLE}(token) VALUES (1)")
    try:
        after = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM records").scalar()
        insert()
        connection.execute(_BULK_INDEX, {"after": after})
    finally:
        connection.exec_driver_sql(f"DELETE FROM {DEFERRAL_TABLE}")
