"""Criterion kinds and the registry that builds them from a protocol's criteria config.

A protocol lists its criteria as plain dicts ``{"name", "kind", **params}``;
``build_criterion`` picks the class for ``kind`` and passes the rest as keyword
parameters. Every configuration mistake (unknown kind, unknown or malformed
parameter) raises ``CriterionConfigError`` naming the criterion and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from classifiers.text import compile_terms
from classifiers.types import Criterion


class CriterionConfigError(ValueError):
    """A criterion's configuration is invalid; the message names the criterion and key."""


class Params:
    """Reads one criterion's parameters; every error names the criterion and the key.

    Kinds call the typed getters for the keys they know and then ``finish()``, which
    rejects any key left over (a typo in the protocol file must not pass silently).
    """

    def __init__(self, name: str, kind: str, params: Mapping[str, Any]) -> None:
        self.name = name
        self.kind = kind
        self._params = dict(params)
        self._used: set[str] = set()

    def error(self, key: str, problem: str) -> CriterionConfigError:
        return CriterionConfigError(
            f"criterion {self.name!r} (kind {self.kind!r}): parameter {key!r}: {problem}"
        )

    def _get(self, key: str, default: Any) -> Any:
        self._used.add(key)
        return self._params.get(key, default)

    def string_list(
        self, key: str, default: Sequence[str] = (), *, required: bool = False
    ) -> list[str]:
        value = self._get(key, None)
        if value is None:
            if required:
                raise self.error(key, "is required (a list of strings)")
            return list(default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise self.error(key, f"must be a list of non-empty strings, got {value!r}")
        if required and not value:
            raise self.error(key, "must not be empty")
        return list(value)

    def terms(
        self,
        key: str,
        default: Sequence[str] = (),
        *,
        required: bool = False,
        extend_key: str | None = None,
    ) -> re.Pattern[str]:
        """A vocabulary (list of regular-expression fragments) compiled to one pattern.

        ``extend_key`` names an optional second key whose terms are added to the first
        (so a protocol can extend a kind's default vocabulary without restating it).
        """
        terms = self.string_list(key, default, required=required)
        if extend_key is not None:
            terms = terms + self.string_list(extend_key)
        try:
            return compile_terms(terms)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def number(self, key: str, default: float, *, low: float = 0.0, high: float = 1.0) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {value!r}")
        if not low <= float(value) <= high:
            raise self.error(key, f"must be between {low} and {high}, got {value!r}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self._params) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used))
            raise self.error(unknown[0], f"unknown parameter (known parameters: {known})")


# The kind modules import Params/CriterionConfigError from this package, so they are
# imported after those are defined.
from classifiers.criteria.design import DesignCriterion  # noqa: E402
from classifiers.criteria.publication_type import PublicationTypeCriterion  # noqa: E402
from classifiers.criteria.substance import SubstanceCriterion  # noqa: E402

CRITERION_KINDS: dict[str, type] = {
    "substance": SubstanceCriterion,
    "design": DesignCriterion,
    "publication_type": PublicationTypeCriterion,
}

try:
    from classifiers.criteria.dose import DoseCriterion  # noqa: E402
except ModuleNotFoundError as exc:  # only while the dose kind has not landed
    if exc.name != "classifiers.criteria.dose":
        raise
else:
    CRITERION_KINDS["dose"] = DoseCriterion


def build_criterion(config: Mapping[str, Any]) -> Criterion:
    """The criterion described by ``config`` (``{"name", "kind", **params}``)."""
    if not isinstance(config, Mapping):
        raise CriterionConfigError(f"criterion config must be a mapping, got {config!r}")
    params = dict(config)
    name = params.pop("name", None)
    kind = params.pop("kind", None)
    if not isinstance(name, str) or not name:
        raise CriterionConfigError(f"criterion config {dict(config)!r}: missing 'name'")
    if not isinstance(kind, str) or not kind:
        raise CriterionConfigError(f"criterion {name!r}: missing 'kind'")
    cls = CRITERION_KINDS.get(kind)
    if cls is None:
        known = ", ".join(sorted(CRITERION_KINDS))
        raise CriterionConfigError(
            f"criterion {name!r}: unknown kind {kind!r} (known kinds: {known})"
        )
    try:
        criterion: Criterion = cls(name=name, **params)
    except CriterionConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise CriterionConfigError(f"criterion {name!r} (kind {kind!r}): {exc}") from None
    return criterion


__all__ = ["CRITERION_KINDS", "CriterionConfigError", "Params", "build_criterion"]
