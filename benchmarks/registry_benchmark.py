"""Registry sweep speed against the local ClinicalTrials.gov stand-in of the tests.

Run:  .venv/bin/python -m benchmarks.registry_benchmark [--studies 2000] [--page-size 100]
      [--postgres URL] [--no-screen]

A first sweep of ``--studies`` fictional registrations (all new), then an incremental one
after a tenth of them changed status: it asks only for updates, so it reads the changed
ones and the boundary day's. Time is wall-clock through HTTP on 127.0.0.1, parsing,
storing and screening with the flagship criteria, into a fresh SQLite file (and a fresh
PostgreSQL schema when ``--postgres`` is given). The real registry is slower to answer
than a local server; this measures what the sweep itself costs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from services.db.engine import make_engine, migrate, session_factory
from services.pipeline.screen import build_screener
from services.protocols import load_protocol
from services.registry.client import ClinicalTrialsClient
from services.registry.sweep import RegistryReport, sweep_registry
from services.settings import FLAGSHIP_PROTOCOL, Settings
from tests.registry.server import FakeRegistry
from tests.registry.studies import nct, study


def _studies(count: int, changed: int = 0) -> list[object]:
    result: list[object] = []
    for i in range(count):
        day = f"2026-{9 + i % 3:02d}-{1 + i % 28:02d}"
        status = "RECRUITING"
        if i < changed:
            day, status = "2026-12-01", "COMPLETED"
        result.append(
            study(
                nct(i),
                title=f"Low-Dose Psilocybin for Low Mood in Adults, Site {i}",
                last_update=day,
                status=status,
                dose=f"{1 + i % 4} mg psilocybin in an oral capsule every third day",
            )
        )
    return result


def _run(url: str, args: argparse.Namespace, fake: FakeRegistry) -> None:
    protocol = load_protocol(FLAGSHIP_PROTOCOL)
    assert protocol.clinicaltrials is not None
    spec = protocol.clinicaltrials.model_copy(update={"page_size": args.page_size})
    protocol = protocol.model_copy(update={"clinicaltrials": spec})
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    screener = None if args.no_screen else build_screener(protocol)
    settings = Settings(  # type: ignore[call-arg]
        clinicaltrials_url=fake.base_url, clinicaltrials_requests_per_minute=1e9
    )
    try:
        for label, studies in (
            ("first (all new)", _studies(args.studies)),
            ("incremental (10% changed)", _studies(args.studies, changed=args.studies // 10)),
        ):
            fake.replace(studies)
            with ClinicalTrialsClient(settings) as client:
                start = time.perf_counter()
                report = sweep_registry(
                    sessions=sessions, protocol=protocol, client=client, screener=screener
                )
                seconds = time.perf_counter() - start
            _print(engine.dialect.name, label, report, seconds)
    finally:
        engine.dispose()


def _print(dialect: str, label: str, report: RegistryReport, seconds: float) -> None:
    c = report.counts
    rate = c["found"] / seconds if seconds else 0.0
    print(
        f"{dialect:<10} {label:<26} found {c['found']:>6} on {c['pages']:>3} pages: "
        f"new {c['new']}, updated {c['updated']}, unchanged {c['unchanged']}, bad {c['bad']}, "
        f"screened {c['screened']} in {seconds:.2f} s ({rate:,.0f} studies/s)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh schema here")
    parser.add_argument("--no-screen", action="store_true")
    args = parser.parse_args(argv)
    with FakeRegistry() as fake, tempfile.TemporaryDirectory() as tmp:
        _run(f"sqlite:///{Path(tmp) / 'registry.db'}", args, fake)
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in args.postgres else "?"
            try:
                _run(f"{args.postgres}{sep}options=-csearch_path%3D{schema}", args, fake)
            finally:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
