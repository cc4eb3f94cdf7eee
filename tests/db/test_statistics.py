"""After a bulk load, PostgreSQL's planner statistics are refreshed at once (not when
autovacuum gets to it), so the steps after a big sweep plan with real row counts."""

from __future__ import annotations

import sqlalchemy as sa

from services.db.dialect import BULK_TABLES, refresh_statistics
from services.db.engine import make_engine, migrate, session_factory


def test_statistics_are_refreshed_on_postgresql_and_sqlite_needs_none(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    try:
        with session_factory(engine)() as session:
            refresh_statistics(session)  # on SQLite: nothing to do, and no error
            if engine.dialect.name == "postgresql":
                analysed = set(
                    session.execute(
                        sa.text(
                            "SELECT relname FROM pg_stat_user_tables "
                            "WHERE last_analyze IS NOT NULL AND schemaname = current_schema()"
                        )
                    ).scalars()
                )
                assert set(BULK_TABLES) <= analysed
    finally:
        engine.dispose()
