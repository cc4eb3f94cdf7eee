"""The composition root's bundle: settings plus the things built from them once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from services.db.engine import make_engine, migrate, session_factory
from services.locks import LocalLocks, Locks, build_locks
from services.protocols import Protocol, load_protocols, select_protocol
from services.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    protocols: dict[str, Protocol] = field(default_factory=dict)
    locks: Locks = field(default_factory=LocalLocks)  # one sweep of a review at a time
    # Per-process caches built on first use (e.g. the ranking's feature matrices), so that
    # importing the runtime does not import what only some commands need.
    caches: dict[str, Any] = field(default_factory=dict)

    def protocol(self, slug: str | None) -> Protocol:
        return select_protocol(self.protocols, slug)

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, *, apply_migrations: bool = True) -> Runtime:
    """Load protocols first (cheap, fails fast on a typo), then open and migrate the database."""
    protocols = load_protocols(list(settings.protocols))
    settings.prepare_data_dir()
    engine = make_engine(settings.database_url)
    if apply_migrations:
        migrate(engine)
    return Runtime(
        settings, engine, session_factory(engine), protocols, locks=build_locks(settings)
    )
