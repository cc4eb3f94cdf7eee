"""Engines, sessions and schema migration for SQLite and PostgreSQL alike."""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_migrate_lock = threading.Lock()


class DatabaseError(RuntimeError):
    """The database cannot be reached or migrated; the message says which URL and why."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the API read while a sweep writes; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def closed_by_server(dbapi_connection: Any) -> bool:
    """Whether the server is ending this idle psycopg connection, seen without a round trip.

    A server that ends a session (a restart, ``pg_terminate_backend``, an idle timeout)
    sends an error and then closes the socket. An idle connection in the pool has
    nothing to read otherwise: the server speaks unasked only to end the session or,
    rarely, to report a changed setting, and a connection that reads anything is
    treated as closed, since discarding a good one costs a reconnect and keeping a
    dead one costs a failed request. The check is one ``poll`` of the socket, a few
    microseconds; a connection cut off silently (no packet ever arrives) still passes.
    """
    import psycopg

    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    try:
        socket = dbapi_connection.pgconn.socket
    except psycopg.OperationalError:  # libpq has already dropped it
        return True
    poller = select.poll()
    poller.register(socket, select.POLLIN)
    return bool(poller.poll(0))  # readable, or hung up / in error (always reported)


def _discard_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout hook: the pool replaces a connection that raises this with a new one."""
    if closed_by_server(dbapi_connection):
        raise sa.exc.DisconnectionError("the server closed this pooled connection")


def json_text(value: Any) -> str:
    """JSON columns written with orjson: a sweep writes each record's fields twice (the
    record and its version) and every screening's verdicts, and the standard encoder was
    a sixth of a 20,000-record sweep's time. Non-string keys become strings, as ``json``
    makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; DatabaseError naming the setting when it is not a database URL."""
    example = "sqlite:///./livescreen.db or postgresql+psycopg://user@host:5432/db"
    try:
        backend = sa.make_url(url).get_backend_name()
    except sa.exc.ArgumentError:
        raise DatabaseError(
            f"LIVESCREEN_DATABASE_URL {redact_loosely(url)!r} is not a database URL; use for "
            f"example {example}"
        ) from None
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"LIVESCREEN_DATABASE_URL names {backend!r}; livescreen runs on SQLite or "
            f"PostgreSQL, e.g. {example}"
        )
    kwargs.setdefault("json_serializer", json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A connection the server has closed (a PostgreSQL restart) must cost no failed
    # request. With psycopg that is seen on checkout from the socket alone; SQLAlchemy's
    # pre-ping would cost a round trip on every checkout, i.e. on every request, so it
    # is the fallback only for other drivers.
    driver = sa.make_url(url).get_dialect().driver
    psycopg_driver = driver == "psycopg" and hasattr(select, "poll")
    kwargs.setdefault("pool_pre_ping", not psycopg_driver)
    # As many pooled connections as the web server has worker threads in use at once, so
    # a burst of requests does not open and close overflow connections for each one.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    engine = sa.create_engine(url, **kwargs)
    if psycopg_driver and not kwargs["pool_pre_ping"]:
        sa.event.listen(engine, "checkout", _discard_if_closed)
    return engine


def redact_loosely(text: str) -> str:
    """``text`` with anything between ``://`` and ``@`` (a password) hidden, for bad URLs."""
    head, sep, rest = text.partition("://")
    return f"{head}{sep}***@{rest.split('@', 1)[1]}" if sep and "@" in rest else text


def redact(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    with _migrate_lock:
        try:
            command.upgrade(alembic_config(engine), "head")
        except sa.exc.DBAPIError as exc:  # unreachable, refused, or not a database at all
            raise DatabaseError(
                f"database {redact(str(engine.url))}: cannot migrate: {str(exc).splitlines()[0]}"
            ) from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success and rolled back on any error, so nothing is half-written."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_database(engine: Engine) -> str | None:
    """None when the database answers, else the reason (for /healthz and status)."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # any connection failure is a health finding, not a crash
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None
