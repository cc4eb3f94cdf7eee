"""Screening quality on labelled records (pure: the caller loads the records).

A labelled record is a record in the interchange format plus ``id``, ``decision``
(``include``/``exclude``, a human's) and ``labels`` (criterion name -> ``met``/
``not_met``/``unclear``). The measures follow the protocol's priorities:

* **recall** of human includes: an include counts as found unless the machine
  *excluded* it (``include`` and ``uncertain`` both send it to a human);
* **work saved**: the share of human excludes that the machine excluded;
* **precision** of machine ``include``: the share of machine includes that a human
  included (NaN when the machine included nothing);
* **per-criterion accuracy** and confusion tables (human label x machine verdict).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from classifiers.screen import Screener
from classifiers.types import Evidence

VERDICTS = ("met", "not_met", "unclear")
PARTS = ("tune", "holdout", "all")
HOLDOUT_ONE_IN = 5  # about 20 % of a labelled set is held out of tuning
DECISIONS = ("include", "uncertain", "exclude")


@dataclass(slots=True)
class Missed:
    """A human include that the machine excluded."""

    id: str
    failed: list[str]
    evidence: dict[str, list[Evidence]]
    reasons: dict[str, str]


@dataclass(slots=True)
class EvaluationReport:
    n: int
    includes: int
    excludes: int
    recall: float
    work_saved: float
    precision: float
    per_criterion_accuracy: dict[str, float]
    missed: list[Missed] = field(default_factory=list)
    false_includes: list[str] = field(default_factory=list)
    # criterion -> human label -> machine verdict -> count
    confusion: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    # human decision -> machine decision -> count
    decisions: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def machine_includes(self) -> int:
        return sum(row.get("include", 0) for row in self.decisions.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "includes": self.includes,
            "excludes": self.excludes,
            "recall": self.recall,
            "work_saved": self.work_saved,
            "precision": None if math.isnan(self.precision) else self.precision,
            "per_criterion_accuracy": dict(self.per_criterion_accuracy),
            "missed": [
                {
                    "id": m.id,
                    "failed": m.failed,
                    "reasons": m.reasons,
                    "evidence": {k: [e.to_json() for e in v] for k, v in m.evidence.items()},
                }
                for m in self.missed
            ],
            "false_includes": list(self.false_includes),
            "confusion": self.confusion,
            "decisions": self.decisions,
        }


def part_of(record_id: str) -> str:
    """``holdout`` or ``tune`` for a record id, fixed by a hash of the id.

    A hash, not the order or a random draw, so that the split is the same on every
    machine and run, and a record keeps its part when others are added to the set.
    """
    digest = hashlib.sha256(record_id.encode("utf-8")).hexdigest()
    return "holdout" if int(digest, 16) % HOLDOUT_ONE_IN == 0 else "tune"


def select_part(labelled: Iterable[Mapping[str, Any]], part: str) -> list[Mapping[str, Any]]:
    """The records of one part (``tune``, ``holdout`` or ``all``) of a labelled set."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    records = list(labelled)
    if part == "all":
        return records
    return [r for r in records if part_of(str(r.get("id", ""))) == part]


def _ratio(num: int, den: int, empty: float) -> float:
    return num / den if den else empty


def evaluate(screener: Screener, labelled: Iterable[Mapping[str, Any]]) -> EvaluationReport:
    """Screen every labelled record and compare with the human labels and decisions."""
    names = [c.name for c in screener.criteria]
    confusion = {n: {h: dict.fromkeys(VERDICTS, 0) for h in VERDICTS} for n in names}
    decisions = {h: dict.fromkeys(DECISIONS, 0) for h in ("include", "exclude")}
    correct = dict.fromkeys(names, 0)
    judged = dict.fromkeys(names, 0)
    missed: list[Missed] = []
    false_includes: list[str] = []
    n = 0
    for record in labelled:
        human = record.get("decision")
        if human not in ("include", "exclude"):
            raise ValueError(f"record {record.get('id')!r}: decision must be include or exclude")
        n += 1
        screening = screener.screen(record)
        decisions[human][screening.decision] += 1
        labels = record.get("labels") or {}
        for name in names:
            label = labels.get(name)
            if label not in VERDICTS:
                continue
            verdict = screening.criteria[name].verdict
            confusion[name][label][verdict] += 1
            judged[name] += 1
            correct[name] += verdict == label
        rid = str(record.get("id", n))
        if human == "include" and screening.decision == "exclude":
            missed.append(
                Missed(
                    rid,
                    list(screening.failed),
                    {f: list(screening.criteria[f].evidence) for f in screening.failed},
                    {f: screening.criteria[f].reason for f in screening.failed},
                )
            )
        if human == "exclude" and screening.decision == "include":
            false_includes.append(rid)
    includes = sum(decisions["include"].values())
    excludes = sum(decisions["exclude"].values())
    machine_includes = decisions["include"]["include"] + decisions["exclude"]["include"]
    return EvaluationReport(
        n=n,
        includes=includes,
        excludes=excludes,
        recall=_ratio(includes - decisions["include"]["exclude"], includes, 1.0),
        work_saved=_ratio(decisions["exclude"]["exclude"], excludes, 0.0),
        precision=_ratio(decisions["include"]["include"], machine_includes, math.nan),
        per_criterion_accuracy={
            name: _ratio(correct[name], judged[name], math.nan) for name in names
        },
        missed=missed,
        false_includes=false_includes,
        confusion=confusion,
        decisions=decisions,
    )


def _pct(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.3f}"


def format_report(report: EvaluationReport, title: str = "Screening evaluation") -> str:
    """A readable plain-text report (summary, decisions, per-criterion tables, misses)."""
    lines = [
        title,
        "=" * len(title),
        f"records {report.n}   human includes {report.includes}   excludes {report.excludes}",
        f"recall (includes not excluded)   {_pct(report.recall)}",
        f"work saved (excludes excluded)   {_pct(report.work_saved)}",
        f"precision of machine include     {_pct(report.precision)}"
        f"   ({report.machine_includes} machine includes)",
        "",
        "human \\ machine   include  uncertain  exclude",
    ]
    for human, row in report.decisions.items():
        lines.append(f"{human:<16} {row['include']:>8} {row['uncertain']:>10} {row['exclude']:>8}")
    lines += ["", "criterion        accuracy   label \\ verdict: met / not_met / unclear"]
    for name, acc in report.per_criterion_accuracy.items():
        table = report.confusion.get(name, {})
        cells = "   ".join(
            f"{label}: {'/'.join(str(table.get(label, {}).get(v, 0)) for v in VERDICTS)}"
            for label in VERDICTS
        )
        lines.append(f"{name:<16} {_pct(acc)}      {cells}")
    if report.missed:
        lines += ["", "missed includes (machine exclude):"]
        for m in report.missed:
            why = "; ".join(f"{f}: {m.reasons.get(f, '')}" for f in m.failed)
            lines.append(f"  {m.id}  {why}")
            for f in m.failed:
                for e in m.evidence.get(f, [])[:1]:
                    lines.append(f"      {e.field}[{e.start}:{e.end}] {e.text[:90]!r}")
    if report.false_includes:
        lines += ["", "machine includes a human excluded: " + ", ".join(report.false_includes)]
    return "\n".join(lines)


__all__ = [
    "PARTS",
    "EvaluationReport",
    "Missed",
    "evaluate",
    "format_report",
    "part_of",
    "select_part",
]
