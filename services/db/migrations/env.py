"""Alembic environment: the engine comes from the caller (services.db.engine.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import services.db.alerts  # noqa: F401
import services.db.imports  # noqa: F401
import services.db.models  # noqa: F401  (registers the tables)
import services.db.registry  # noqa: F401
import services.db.reviewing  # noqa: F401
import services.db.runs  # noqa: F401

target_metadata = SQLModel.metadata
engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
