"""What the living-loop benchmarks share: an eligible trial record and a PostgreSQL schema.

The services come from the same variables the tests read (CI's PostgreSQL and Redis by
default); each run works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa

from tests.eutils_server import FakeRecord, synthetic_record

SLUG = "psilocybin-microdosing"
POSTGRES = os.environ.get(
    "LIVESCREEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("LIVESCREEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def trial(pmid: int, *, edat: date) -> FakeRecord:
    """A record the flagship criteria include: low-dose psilocybin against placebo."""
    return synthetic_record(
        str(pmid),
        title=f"Microdosing psilocybin in healthy adults, study {pmid}: a randomised, "
        "double-blind, placebo-controlled trial",
        abstract="Healthy adults were randomised to psilocybin 1 mg or placebo on six "
        "occasions. Psilocybin at this low dose did not differ from placebo.",
        edat=edat,
    )


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL whose connections use a fresh schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
