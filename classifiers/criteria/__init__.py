"""Criterion kinds and the registry that builds them from a protocol's criteria config.

A protocol lists its criteria as plain dicts ``{"name", "kind", **params}``;
``build_criterion`` picks the class for ``kind`` and passes the rest as keyword
parameters. Every configuration mistake (unknown kind, unknown or malformed
parameter, a regular expression that does not compile, alone or joined with the
other terms of its vocabulary) raises ``CriterionConfigError`` naming the criterion
and the key, so a protocol can be checked completely by building its criteria.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from classifiers.text import compile_terms, lower_regex
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
        except re.error as exc:  # each term compiles alone, but not joined with the rest
            raise self.error(key, joined_terms_problem(terms, exc)) from None

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


def _term_problem(term: str) -> str | None:
    """Why ``term`` breaks once joined into a vocabulary, or None when it does not.

    A fragment can compile alone and still fail inside the alternation a vocabulary is
    compiled to (an inline global flag such as ``(?i)`` not at the start), or once its
    literal letters are lower-cased for case-insensitive matching (``(?P<name>``).
    """
    for probe in (term, lower_regex(term)):
        try:
            re.compile(f"(?!x)x|(?:{probe})")
        except re.error as exc:
            return f"invalid regular expression {term!r} in a list of terms: {exc.msg}"
    return None


def joined_terms_problem(terms: Sequence[str], exc: re.error) -> str:
    """The message for a vocabulary whose joined expression does not compile."""
    for term in terms:
        problem = _term_problem(term)
        if problem is not None:
            return problem
    return f"the terms cannot be joined into one regular expression: {exc.msg}"


def _regex_parameter_problem(params: Mapping[str, Any], exc: re.error) -> str:
    """Which parameter's terms made a constructor's ``re.compile`` fail, and why."""
    for key, value in params.items():
        terms = [value] if isinstance(value, str) else value
        if isinstance(terms, (list, tuple)):
            for term in terms:
                problem = isinstance(term, str) and _term_problem(term)
                if problem:
                    return f"parameter {key!r}: {problem}"
    return f"invalid regular expression in its terms: {exc.msg}"


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
    where = f"criterion {name!r} (kind {kind!r})"
    for key, value in params.items():
        # TOML has inf and nan; no threshold or weight of any kind means anything as either
        if isinstance(value, float) and not math.isfinite(value):
            raise CriterionConfigError(f"{where}: parameter {key!r}: must be finite, got {value}")
    try:
        criterion: Criterion = cls(name=name, **params)
    except CriterionConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise CriterionConfigError(f"{where}: {exc}") from None
    except re.error as exc:  # a kind that compiles its terms itself, joined
        raise CriterionConfigError(f"{where}: {_regex_parameter_problem(params, exc)}") from None
    return criterion


__all__ = ["CRITERION_KINDS", "CriterionConfigError", "Params", "build_criterion"]
