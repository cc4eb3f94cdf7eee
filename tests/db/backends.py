"""Ending PostgreSQL sessions from another connection, as a server restart does."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa


def tagged(url: str) -> tuple[str, str]:
    """``url`` with a unique ``application_name``, so a test ends only its own sessions."""
    name = f"livescreen-test-{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}application_name={name}", name


def backend_pids(admin: sa.Engine, application_name: str) -> set[int]:
    with admin.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name},
        )
        return {int(pid) for (pid,) in rows}


def terminate(admin: sa.Engine, application_name: str, *, timeout: float = 10.0) -> set[int]:
    """End every session named ``application_name``; returns their pids once all are gone.

    ``pg_terminate_backend`` only signals a backend; waiting until it has left
    ``pg_stat_activity`` means it has sent its goodbye and closed the socket, as every
    backend has by the time a restarted server accepts connections again.
    """
    pids = backend_pids(admin, application_name)
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    deadline = time.monotonic() + timeout
    while backend_pids(admin, application_name) & pids:
        if time.monotonic() > deadline:
            raise AssertionError(f"backends {sorted(pids)} still running after {timeout} s")
        time.sleep(0.02)
    return pids
