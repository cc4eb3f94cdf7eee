"""full-text search of records: an FTS5 table on SQLite, a tsvector GIN index on PostgreSQL

Reviewers search title, abstract, authors, journal, MeSH terms and keywords. SQLite gets a
contentless FTS5 table kept in step with ``records`` by triggers; PostgreSQL a stored
generated ``tsvector`` column (an immutable function of the record's columns) with a GIN
index. Neither is in the models: they are the databases' own, read only by
services.search. Both split text into runs of letters and digits (no stemming, no accent
folding) so that the two find the same records. Both are filled from the rows already there.

Revision ID: 0010
Revises: 0008 (0009 once merged: set down_revision to the revision before this one)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_values(row: str) -> str:
    def listed(key: str) -> str:
        return f"(SELECT group_concat(value, ' ') FROM json_each({row}.data, '$.{key}'))"

    return (
        f"{row}.title, coalesce({row}.abstract, ''), {listed('authors')}, {row}.journal, "
        f"{listed('mesh_terms')}, {listed('keywords')}"
    )


COLUMNS = "title, abstract, authors, journal, mesh, keywords"

PG_FUNCTION = r"""
CREATE OR REPLACE FUNCTION records_search_vector(title text, abstract text, journal text, data json)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT
  setweight(to_tsvector('simple'::regconfig,
    regexp_replace(coalesce(title, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')
  || setweight(to_tsvector('simple'::regconfig, regexp_replace(
       coalesce(abstract, '') || ' ' || coalesce(f.mesh, '') || ' ' || coalesce(f.keywords, ''),
       '[^[:alnum:]]+', ' ', 'g')), 'B')
  || setweight(to_tsvector('simple'::regconfig,
       regexp_replace(coalesce(f.authors, ''), '[^[:alnum:]]+', ' ', 'g')), 'C')
  || setweight(to_tsvector('simple'::regconfig,
       regexp_replace(coalesce(journal, ''), '[^[:alnum:]]+', ' ', 'g')), 'D')
FROM (SELECT
  (SELECT string_agg(v, ' ') FROM json_array_elements_text(
     CASE WHEN json_typeof(data -> 'authors') = 'array' THEN data -> 'authors' ELSE '[]' END) v)
     AS authors,
  (SELECT string_agg(v, ' ') FROM json_array_elements_text(
     CASE WHEN json_typeof(data -> 'mesh_terms') = 'array'
          THEN data -> 'mesh_terms' ELSE '[]' END) v)
     AS mesh,
  (SELECT string_agg(v, ' ') FROM json_array_elements_text(
     CASE WHEN json_typeof(data -> 'keywords') = 'array' THEN data -> 'keywords' ELSE '[]' END) v)
     AS keywords) AS f
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        # Stored, so ranking reads the vector instead of computing it per matched row.
        op.execute(
            "ALTER TABLE records ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(records_search_vector(title, abstract, journal, data)) STORED"
        )
        op.execute("CREATE INDEX ix_records_search ON records USING gin (search_vector)")
        return
    op.execute(
        f"CREATE VIRTUAL TABLE records_fts USING fts5({COLUMNS}, content='', "
        "tokenize='unicode61 remove_diacritics 0')"
    )
    insert = f"INSERT INTO records_fts(rowid, {COLUMNS}) VALUES (new.id, {_sqlite_values('new')});"
    delete = (
        f"INSERT INTO records_fts(records_fts, rowid, {COLUMNS}) "
        f"VALUES ('delete', old.id, {_sqlite_values('old')});"
    )
    op.execute(f"CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN {delete} END")
    op.execute(
        "CREATE TRIGGER records_fts_update AFTER UPDATE OF title, abstract, journal, data "
        f"ON records BEGIN {delete} {insert} END"
    )
    op.execute(
        f"INSERT INTO records_fts(rowid, {COLUMNS}) "
        f"SELECT records.id, {_sqlite_values('records')} FROM records"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_records_search")
        op.execute("ALTER TABLE records DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS records_search_vector(text, text, text, json)")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS records_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS records_fts")
