"""Design failure kinds of issue 10 and the borderline safety net, in our own phrasings."""

from __future__ import annotations

from typing import Any

from classifiers.screen import Screener
from classifiers.types import CriterionResult, Evidence

from .helpers import criterion_config, flagship_screener, record


def controlled(rec: dict[str, Any]) -> CriterionResult:
    screening = flagship_screener().screen(rec)
    return screening.criteria["controlled"]


def test_open_label_in_the_title_is_not_controlled() -> None:
    rec = record(
        "An open-label pilot of weekly psilocybin microdoses in adults with low mood",
        "Twenty adults took 1 mg psilocybin weekly for six weeks. Mood ratings improved and "
        "the treatment was well tolerated; a comparison group will be needed in future work.",
    )
    result = controlled(rec)
    assert result.verdict == "not_met"
    assert any(e.field == "title" and "open-label" in e.text.lower() for e in result.evidence)


def test_single_arm_study_is_not_controlled() -> None:
    rec = record(
        "Low-dose psilocybin for chronic pain: a feasibility study",
        "In this single-arm study, 15 patients received 2 mg psilocybin every third day for "
        "a month. Pain scores fell by a third and no serious adverse events occurred.",
    )
    assert controlled(rec).verdict == "not_met"


class Fixed:
    """A criterion with a fixed result: the smallest real Criterion, not a mock."""

    def __init__(self, name: str, result: CriterionResult) -> None:
        self.name = name
        self._result = result

    def evaluate(self, record: dict[str, Any]) -> CriterionResult:
        return self._result


EV = Evidence("abstract", 0, 4, "Dose")


def test_a_borderline_criterion_keeps_the_record_uncertain_not_excluded() -> None:
    clear_fail = CriterionResult("not_met", 0.95, [EV], "dose too high")
    borderline = CriterionResult("not_met", 0.9, [EV], "at the threshold", borderline=True)
    screener = Screener([Fixed("a", clear_fail), Fixed("b", borderline)])
    rec = record("t", "Dose of 0.08 mg/kg.")
    screening = screener.screen(rec)
    assert screening.decision == "uncertain"
    assert screening.failed == []
    assert screening.to_json()["criteria"]["b"]["borderline"] is True
    assert "borderline" not in screening.to_json()["criteria"]["a"]


def test_a_borderline_met_does_not_make_a_machine_include() -> None:
    met = CriterionResult("met", 0.9, [EV])
    doubtful = CriterionResult("met", 0.6, [EV], "conflicting cues", borderline=True)
    screening = Screener([Fixed("a", met), Fixed("b", doubtful)]).screen(record("t", "Dose."))
    assert screening.decision == "uncertain"


def test_exclude_still_needs_a_clear_not_met_with_evidence() -> None:
    no_evidence = CriterionResult("not_met", 0.95, [], "nothing to show")
    weak = CriterionResult("not_met", 0.55, [EV], "a hunch")
    screener = Screener([Fixed("a", no_evidence), Fixed("b", weak)])
    assert screener.screen(record("t", "Dose.")).decision == "uncertain"


def test_flagship_criteria_are_configured() -> None:
    assert criterion_config("controlled")["kind"] == "design"
