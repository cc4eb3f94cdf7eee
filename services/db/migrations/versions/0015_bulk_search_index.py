"""bulk search indexing on SQLite: the insert trigger steps aside while a batch indexes itself

Storing a batch of records indexed each row through the FTS5 insert trigger, which cost two
thirds of storing (``python -m benchmarks.store_benchmark``). ``store_records`` now indexes
its new rows with one INSERT ... SELECT in the same transaction. While it does, a row in
``records_fts_deferral`` (inserted first, deleted before commit, so no other connection
ever sees it) makes the trigger skip; every other insert is indexed by the trigger as
before. PostgreSQL's generated column needs nothing.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "title, abstract, authors, journal, mesh, keywords"


def _listed(key: str) -> str:
    return f"(SELECT group_concat(value, ' ') FROM json_each(new.data, '$.{key}'))"


INSERT = (
    f"INSERT INTO records_fts(rowid, {COLUMNS}) VALUES (new.id, new.title, "
    f"coalesce(new.abstract, ''), {_listed('authors')}, new.journal, {_listed('mesh_terms')}, "
    f"{_listed('keywords')});"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE records_fts_deferral (token INTEGER PRIMARY KEY)")
    op.execute("DROP TRIGGER records_fts_insert")
    op.execute(
        "CREATE TRIGGER records_fts_insert AFTER INSERT ON records "
        f"WHEN NOT EXISTS (SELECT 1 FROM records_fts_deferral) BEGIN {INSERT} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER records_fts_insert")
    op.execute(f"CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN {INSERT} END")
    op.execute("DROP TABLE records_fts_deferral")
