"""Review protocol files: the only place a review's query, schedule and criteria live.

A protocol is TOML so reviewers can edit it by hand; it is validated here so a
typo fails loudly at start-up with the file and field named. Validation includes
building every criterion through the classifier registry (kind, parameter types,
regular expressions): the criteria that pass are the ones screening uses, so what
was checked at start-up is exactly what runs.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from classifiers.criteria import CriterionConfigError, build_criterion
from classifiers.types import Criterion


class ProtocolError(ValueError):
    """A protocol file is missing or invalid; the message names the file and the field."""


class CriterionSpec(BaseModel):
    """One inclusion criterion; parameters beyond name/kind belong to the kind."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ClinicalTrialsSpec(BaseModel):
    """The ``[clinicaltrials]`` table: the review's own ClinicalTrials.gov v2 query.

    The registry does not speak PubMed's query language, so it gets its own search; each
    field is one of the API's search areas (Essie syntax: ``OR``, ``AND``, quotes) and
    the areas given are combined with AND. No table means the review has no registry sweep.
    """

    model_config = ConfigDict(extra="forbid")

    term: str = ""  # query.term: titles, summary, conditions, interventions, keywords...
    intervention: str = ""  # query.intr: intervention names, types and other names
    condition: str = ""  # query.cond: conditions and their keywords
    page_size: int = Field(default=100, ge=1, le=1000)

    @model_validator(mode="after")
    def _some_query(self) -> ClinicalTrialsSpec:
        if not (self.term.strip() or self.intervention.strip() or self.condition.strip()):
            raise ValueError("needs at least one of term, intervention, condition")
        return self


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    query: str = Field(min_length=1)
    schedule_hours: float = Field(default=24, gt=0)
    # A cron expression (minute hour day month weekday, UTC), e.g. "0 6 * * *"; when set it
    # decides when the review is swept instead of schedule_hours.
    schedule: str = ""
    screening: Literal["single", "dual"] = "single"
    blind: bool = True
    # Blind reviews against anchoring: the screening page shows no machine suggestion
    # (verdicts, p_include, highlights) until the reviewer has decided the record.
    hide_suggestions: StrictBool = False
    criteria: list[CriterionSpec] = Field(default_factory=list)
    clinicaltrials: ClinicalTrialsSpec | None = None
    source: str = ""
    # (the criteria config they were built from, the built criteria)
    _built: tuple[list[dict[str, Any]], tuple[Criterion, ...]] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are: the built criteria are a cache, not part of the value."""
        if not isinstance(other, Protocol):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without the built criteria: a copy sent to another process (the sweep's
        screening process) builds its own. Unpickled criteria lose the text engine's
        plans, which are keyed by the compiled patterns' identity, and screened at half
        the speed (measured)."""
        state = dict(super().__getstate__())
        private = dict(state.get("__pydantic_private__") or {})
        private["_built"] = None
        state["__pydantic_private__"] = private
        return state

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        value = value.strip()
        if value and not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a cron expression (five fields: minute hour day month "
                'weekday, e.g. "0 6 * * *" for 06:00 UTC every day)'
            )
        return value

    @property
    def required_decisions(self) -> int:
        return 2 if self.screening == "dual" else 1

    @property
    def criteria_config(self) -> list[dict[str, Any]]:
        """The criteria as plain dicts, the form the pure classifier package takes."""
        return [{"name": c.name, "kind": c.kind, **c.params()} for c in self.criteria]

    def build_criteria(self) -> tuple[Criterion, ...]:
        """The criteria built by the classifier registry, once per protocol and config.

        Raises ``CriterionConfigError`` naming the criterion and the problem;
        ``load_protocol`` calls this, so a protocol read from a file is known to build.
        The config is compared on each call so a copy with other criteria is rebuilt.
        """
        config = self.criteria_config
        if self._built is None or self._built[0] != config:
            self._built = (config, tuple(build_criterion(c) for c in config))
        return self._built[1]

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
    except OSError as exc:  # a directory, no permission
        raise ProtocolError(f"protocol file {path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"protocol file {path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"protocol file {path}: not valid TOML ({exc})") from None
    try:
        protocol = Protocol.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProtocolError(
            f"protocol file {path}: {_where(data, first['loc'])}: {first['msg']}"
        ) from None
    names = [c.name for c in protocol.criteria]
    if len(names) != len(set(names)):
        raise ProtocolError(f"protocol file {path}: criteria names must be unique, got {names}")
    try:
        protocol.build_criteria()
    except CriterionConfigError as exc:
        raise ProtocolError(f"protocol file {path}: {exc}") from None
    return protocol


def _where(data: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Where: ``field slug``, or ``criterion 'x' ([[criteria]] table 2): field kind``."""
    if len(loc) >= 2 and loc[0] == "criteria" and isinstance(loc[1], int):
        rest = ".".join(str(p) for p in loc[2:]) or "(table)"
        criteria = data.get("criteria")
        entry = criteria[loc[1]] if isinstance(criteria, list) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"criterion {name!r}" if isinstance(name, str) else "criterion"
        return f"{label} ([[criteria]] table {loc[1] + 1}): field {rest}"
    return "field " + (".".join(str(p) for p in loc) or "(file)")


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
