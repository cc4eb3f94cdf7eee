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
