"""Fixtures of the registry tests: a local registry server and a runtime on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime import Runtime, build_runtime
from services.settings import Settings
from tests.registry.server import FakeRegistry

PROTOCOL = """slug = "registry"
title = "Registry test"
query = "psilocybin"

[[criteria]]
name = "psilocybin"
kind = "substance"
substance = "psilocybin"
terms = ["psilocybin"]

[clinicaltrials]
intervention = "psilocybin"
term = "microdose OR microdosing"
page_size = 3
"""
NO_TABLE = 'slug = "plain"\ntitle = "No registry"\nquery = "psilocybin"\n'


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    (tmp_path / "registry.toml").write_text(PROTOCOL)
    (tmp_path / "plain.toml").write_text(NO_TABLE)
    settings = Settings(  # type: ignore[call-arg]
        database_url=database_url,
        protocols=[tmp_path / "registry.toml", tmp_path / "plain.toml"],
    )
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()
