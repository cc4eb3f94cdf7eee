"""Review protocol files: the only place a review's query, schedule and criteria live.

A protocol is TOML so reviewers can edit it by hand; it is validated here so a
typo fails loudly at start-up with the file and field named.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ProtocolError(ValueError):
    """A protocol file is missing or invalid; the message names the file and the field."""


class CriterionSpec(BaseModel):
    """One inclusion criterion; parameters beyond name/kind belong to the kind."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    query: str = Field(min_length=1)
    schedule_hours: float = Field(default=24, gt=0)
    screening: Literal["single", "dual"] = "single"
    blind: bool = True
    criteria: list[CriterionSpec] = Field(default_factory=list)
    source: str = ""

    @property
    def required_decisions(self) -> int:
        return 2 if self.screening == "dual" else 1

    @property
    def criteria_config(self) -> list[dict[str, Any]]:
        """The criteria as plain dicts, the form the pure classifier package takes."""
        return [{"name": c.name, "kind": c.kind, **c.params()} for c in self.criteria]

    @property
    def version(self) -> str:
        """Content hash of what screening depends on: a change here re-screens records."""
        payload = json.dumps(self.criteria_config, sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:12]


def load_protocol(path: Path) -> Protocol:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(f"protocol file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"protocol file {path}: not valid TOML ({exc})") from None
    try:
        protocol = Protocol.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ProtocolError(f"protocol file {path}: field {where}: {first['msg']}") from None
    names = [c.name for c in protocol.criteria]
    if len(names) != len(set(names)):
        raise ProtocolError(f"protocol file {path}: criteria names must be unique, got {names}")
    return protocol


def load_protocols(paths: list[Path]) -> dict[str, Protocol]:
    protocols: dict[str, Protocol] = {}
    for path in paths:
        protocol = load_protocol(path)
        if protocol.slug in protocols:
            raise ProtocolError(
                f"protocol file {path}: slug {protocol.slug!r} already defined by "
                f"{protocols[protocol.slug].source}"
            )
        protocols[protocol.slug] = protocol
    return protocols


def select_protocol(protocols: dict[str, Protocol], slug: str | None) -> Protocol:
    """The protocol named by ``slug``, or the first configured one when slug is None."""
    if slug is None:
        if not protocols:
            raise LookupError("no review protocols are configured (LIVESCREEN_PROTOCOLS)")
        return next(iter(protocols.values()))
    try:
        return protocols[slug]
    except KeyError:
        known = ", ".join(sorted(protocols)) or "none"
        raise LookupError(f"unknown review {slug!r} (configured: {known})") from None
