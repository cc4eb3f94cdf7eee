"""Small helpers that let one statement serve SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; every timestamp here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dialect_insert(session: Session) -> Any:
    """The ``insert`` with ``on_conflict_do_nothing`` for the session's database."""
    return insert_for(dialect_name(session))


def insert_for(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def among_param(column: Any, name: str, dialect: str) -> Any:
    """``column IN :name``; on PostgreSQL as ``= ANY(:name)``, one array parameter however
    many ids, so the statement text (and its compiled and prepared forms) is the same for
    every call. For statements built once (see :func:`prebuilt`) and run many times."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.func.any(sa.bindparam(name, type_=ARRAY(sa.Integer)))
    return col(column).in_(sa.bindparam(name, expanding=True))


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


# The statements of the two calls a reviewer makes all day (``/next`` and a decision) are
# built once per process and run with parameters: building a SQLAlchemy statement and
# its cache key took longer than PostgreSQL took to run it.
prebuilt = functools.cache


# Tables a sweep or an import fills in bulk, and that the next steps join at once.
BULK_TABLES = ("records", "record_versions", "review_records", "screenings")
BULK_ROWS = 1000  # changed rows from which the statistics are refreshed


def refresh_statistics(session: Session, tables: tuple[str, ...] = BULK_TABLES) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load.

    Autovacuum analyses a table only a while after it changed, so the steps right after a
    sweep of thousands of records would plan with the statistics of a near-empty table:
    measured, the alerts step's record/screening join took a nested loop whose time grew
    with each batch (2.5 s for the fifth batch of 1,000). SQLite plans without statistics
    and needs none of this."""
    if dialect_name(session) == "postgresql":
        session.execute(sa.text("ANALYZE " + ", ".join(tables)))
        session.commit()
