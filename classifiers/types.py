"""Shared result types of the screening classifiers (pure data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Verdict = Literal["met", "not_met", "unclear"]
Decision = Literal["include", "exclude", "uncertain"]
TEXT_FIELDS: tuple[str, ...] = ("title", "abstract")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A phrase supporting a verdict; ``start``/``end`` index into ``record[field]`` as given."""

    field: str
    start: int
    end: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "start": self.start, "end": self.end, "text": self.text}


@dataclass(slots=True)
class CriterionResult:
    verdict: Verdict
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""
    # The criterion itself doubts its verdict (a dose at the threshold, conflicting design
    # cues): the screener then keeps the record ``uncertain`` so a human decides.
    borderline: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "confidence": round(self.confidence, 4),
            "evidence": [e.to_json() for e in self.evidence],
        }
        if self.reason:
            out["reason"] = self.reason
        if self.borderline:
            out["borderline"] = True
        return out


class Criterion(Protocol):
    """One configured criterion: judges a record (a mapping in the interchange format)."""

    name: str

    def evaluate(self, record: dict[str, Any]) -> CriterionResult: ...
