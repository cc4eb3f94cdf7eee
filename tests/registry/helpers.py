"""Helpers of the registry tests: one sweep against the local server, its counts."""

from __future__ import annotations

import random

from services.pipeline.screen import build_screener
from services.registry.client import ClinicalTrialsClient
from services.registry.sweep import RegistryReport, sweep_registry
from services.runtime import Runtime
from services.settings import Settings
from tests.registry.server import FakeRegistry


def sweep(
    runtime: Runtime,
    fake: FakeRegistry,
    waits: list[float] | None = None,
    *,
    slug: str = "registry",
    full: bool = False,
) -> RegistryReport:
    protocol = runtime.protocol(slug)
    settings = Settings(  # type: ignore[call-arg]
        clinicaltrials_url=fake.base_url,
        clinicaltrials_requests_per_minute=60_000,
        http_backoff=0.01,
        http_retries=3,
        http_timeout=5.0,
    )
    pauses = waits if waits is not None else []
    with ClinicalTrialsClient(settings, sleep=pauses.append, rng=random.Random(3)) as client:
        return sweep_registry(
            sessions=runtime.sessions,
            protocol=protocol,
            client=client,
            screener=build_screener(protocol),
            full=full,
        )


def counts(report: RegistryReport) -> tuple[int, ...]:
    c = report.counts
    return c["new"], c["updated"], c["unchanged"], c["bad"]
