"""Alembic owns the schema: migrating an empty database yields exactly the models' tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import services.db.alerts  # noqa: F401
import services.db.imports  # noqa: F401
import services.db.models  # noqa: F401
import services.db.registry  # noqa: F401
import services.db.reviewing  # noqa: F401
import services.db.runs  # noqa: F401
from services.db.engine import make_engine, migrate
from services.search.fulltext import not_search_table


def test_migrations_match_models_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)  # a second start changes nothing and does not fail
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": False, "include_name": not_search_table}
            )
            diff = compare_metadata(context, SQLModel.metadata)
        assert diff == []
    finally:
        engine.dispose()
