"""The per-record decision: combine the criteria's verdicts into include/exclude/uncertain.

* ``include`` when every criterion is ``met`` (and the record has an abstract: the
  protocol allows a title-only record to be at most ``uncertain``);
* ``exclude`` when at least one criterion is *clearly* not met: ``not_met`` with a
  confidence of at least ``exclude_threshold`` and evidence to show. Without an
  abstract the evidence must come from the title (absence of evidence never
  excludes a title-only record); ``failed`` names the criteria;
* ``uncertain`` otherwise, and always when any criterion marks its result
  ``borderline`` (the safety net: a doubtful verdict is never turned into a machine
  exclude or include; the queue and the learned ranking decide).

``p_include`` ranks records for review. Each criterion gives a probability of being
met (its confidence for ``met``, one minus it for ``not_met``, one half for
``unclear``); their product is mapped into a band per decision (exclude below 0.25,
uncertain 0.25–0.75, include above 0.75), so it is monotone with the decision and
orders records within it.

With ``short_circuit`` the criteria are evaluated in their configured order and the
rest are skipped once one clearly fails (reported as ``unclear`` with confidence 0
and the reason "not evaluated"): the decision is the same (except that a skipped
criterion cannot raise the borderline safety net), screening of off-topic
records is several times faster, but excluded records show fewer verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from classifiers.criteria import CriterionConfigError, build_criterion
from classifiers.types import Criterion, CriterionResult, Decision

BANDS: dict[str, tuple[float, float]] = {
    "exclude": (0.0, 0.25),
    "uncertain": (0.25, 0.75),
    "include": (0.75, 1.0),
}


@dataclass(slots=True)
class Screening:
    decision: Decision
    p_include: float
    criteria: dict[str, CriterionResult]
    failed: list[str] = field(default_factory=list)

    @property
    def ongoing(self) -> bool:
        """True when a criterion flags the record as a published protocol (ongoing study)."""
        return any(getattr(r, "ongoing", False) for r in self.criteria.values())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision,
            "p_include": round(self.p_include, 4),
            "criteria": {name: r.to_json() for name, r in self.criteria.items()},
        }
        if self.failed:
            out["failed"] = list(self.failed)
        if self.ongoing:
            out["ongoing"] = True
        return out


def p_met(result: CriterionResult) -> float:
    """Probability that the criterion is met, from its verdict and confidence."""
    conf = min(max(float(result.confidence), 0.0), 1.0)
    if result.verdict == "met":
        return conf
    if result.verdict == "not_met":
        return 1.0 - conf
    return 0.5


class Screener:
    """Screens records against a protocol's criteria."""

    def __init__(
        self,
        criteria: Sequence[Criterion],
        *,
        exclude_threshold: float = 0.7,
        short_circuit: bool = False,
    ) -> None:
        names = [c.name for c in criteria]
        if len(set(names)) != len(names):
            raise CriterionConfigError(f"criterion names must be unique, got {names}")
        if not 0.5 <= exclude_threshold <= 1.0:
            raise ValueError(f"exclude_threshold must be in [0.5, 1], got {exclude_threshold}")
        self.criteria = list(criteria)
        self.exclude_threshold = exclude_threshold
        self.short_circuit = short_circuit

    @classmethod
    def from_config(
        cls,
        criteria_config: Sequence[Mapping[str, Any]],
        *,
        exclude_threshold: float = 0.7,
        short_circuit: bool = False,
    ) -> Screener:
        return cls(
            [build_criterion(c) for c in criteria_config],
            exclude_threshold=exclude_threshold,
            short_circuit=short_circuit,
        )

    def _clearly_failed(self, result: CriterionResult, has_abstract: bool) -> bool:
        if result.verdict != "not_met" or result.confidence < self.exclude_threshold:
            return False
        if not result.evidence:
            return False  # every exclusion must show its evidence
        if not has_abstract:
            # title-only: only a title that rules the record out may exclude it
            return any(e.field == "title" for e in result.evidence)
        return True

    def screen(self, record: Mapping[str, Any]) -> Screening:
        rec = record if isinstance(record, dict) else dict(record)
        abstract = rec.get("abstract")
        has_abstract = isinstance(abstract, str) and bool(abstract.strip())
        results: dict[str, CriterionResult] = {}
        failed: list[str] = []
        for criterion in self.criteria:
            if failed and self.short_circuit:
                results[criterion.name] = CriterionResult(
                    "unclear", 0.0, [], f"not evaluated: already excluded by {failed[0]}"
                )
                continue
            result = criterion.evaluate(rec)
            results[criterion.name] = result
            if self._clearly_failed(result, has_abstract):
                failed.append(criterion.name)
        decision: Decision
        if any(r.borderline for r in results.values()):
            decision = "uncertain"
        elif failed:
            decision = "exclude"
        elif has_abstract and results and all(r.verdict == "met" for r in results.values()):
            decision = "include"
        else:
            decision = "uncertain"
        raw = 1.0
        for r in results.values():
            raw *= p_met(r)
        low, high = BANDS[decision]
        failed = failed if decision == "exclude" else []
        return Screening(decision, low + (high - low) * raw, results, failed)

    def screen_many(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Screening]:
        for record in records:
            yield self.screen(record)


__all__ = ["BANDS", "Screener", "Screening", "p_met"]
