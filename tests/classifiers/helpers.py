"""Shared helpers for the classifier tests: the flagship criteria and small records."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from classifiers.screen import Screener
from services.protocols import load_protocol

FLAGSHIP = Path(__file__).resolve().parents[2] / "protocols" / "psilocybin-microdosing.toml"


@lru_cache(maxsize=1)
def flagship_config() -> tuple[dict[str, Any], ...]:
    return tuple(load_protocol(FLAGSHIP).criteria_config)


def criterion_config(name: str) -> dict[str, Any]:
    return next(c for c in flagship_config() if c["name"] == name)


def flagship_screener(**kwargs: Any) -> Screener:
    return Screener.from_config(list(flagship_config()), **kwargs)


def record(
    title: str,
    abstract: str | None = None,
    *,
    types: list[str] | None = None,
    mesh: list[str] | None = None,
    keywords: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "title": title,
        "abstract": abstract,
        "journal": "J Test",
        "year": 2024,
        "publication_types": types or ["Journal Article"],
        "mesh_terms": mesh or [],
        "keywords": keywords or [],
    }
