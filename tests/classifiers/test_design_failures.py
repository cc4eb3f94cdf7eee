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


def primary(rec: dict[str, Any]) -> CriterionResult:
    return flagship_screener().screen(rec).criteria["primary_study"]


def test_a_pooled_analysis_of_several_trials_is_not_a_primary_study() -> None:
    rec = record(
        "Mood after low-dose psilocybin: combined evidence from placebo-controlled trials",
        "We present a pooled analysis of three placebo-controlled trials of psilocybin "
        "microdosing (n = 212). Across studies, mood did not differ from placebo.",
    )
    assert primary(rec).verdict == "not_met"


def test_individual_participant_data_analysis_is_not_a_primary_study() -> None:
    rec = record(
        "Expectancy and microdosing outcomes",
        "Using individual participant data from four randomised studies of 1 mg psilocybin "
        "against placebo, we modelled how expectancy shaped reported benefits.",
    )
    assert primary(rec).verdict == "not_met"


def test_a_secondary_analysis_of_one_trial_is_a_primary_study() -> None:
    rec = record(
        "Sleep in a psilocybin microdosing trial",
        "In this secondary analysis of a randomised placebo-controlled trial, 60 adults took "
        "0.5 g dried psilocybin mushrooms or placebo twice weekly; we analysed sleep diaries.",
        types=["Randomized Controlled Trial"],
    )
    assert primary(rec).verdict == "met"
    assert flagship_screener().screen(rec).decision == "include"


def test_survey_non_users_are_not_controls() -> None:
    rec = record(
        "Creativity among people who microdose psilocybin",
        "In a cross-sectional online survey, 400 people who microdose psilocybin mushrooms "
        "and 300 non-using controls rated their creativity. Microdosers scored higher.",
    )
    assert controlled(rec).verdict == "not_met"


def test_one_cohort_before_and_after_is_not_controlled() -> None:
    rec = record(
        "Changes in anxiety after a month of psilocybin microdosing",
        "A single cohort of 30 volunteers was assessed before and after four weeks of "
        "0.1 g dried mushroom every other day. Anxiety scores fell from baseline.",
    )
    assert controlled(rec).verdict != "met"
    assert flagship_screener().screen(rec).decision != "include"


def test_real_style_includes_of_every_admitted_design() -> None:
    screener = flagship_screener()
    includes = [
        record(
            "Psilocybin microdosing and attention: a randomised placebo-controlled trial",
            "Healthy adults (n = 80) were randomised to 1.5 mg psilocybin or placebo capsules "
            "every third day for three weeks; attention was tested weekly.",
        ),
        record(
            "Low-dose psilocybin versus an active placebo in depressed adults",
            "Participants received 3 mg psilocybin or 100 mg niacin as an active placebo, "
            "double-blind, and depression ratings were compared at four weeks.",
        ),
        record(
            "A crossover study of psilocybin microdoses and mood",
            "In a double-blind crossover design, 24 volunteers took 2 mg psilocybin and "
            "placebo in counterbalanced order one week apart.",
        ),
        record(
            "Microdosing psilocybin mushrooms for low mood: a waitlist-controlled study",
            "Adults were allocated to 0.2 g dried Psilocybe cubensis twice weekly or to a "
            "waitlist control group for six weeks; mood was rated weekly.",
        ),
        record(
            "Repeated low-dose psilocybin in rats: anxiety-like behaviour",
            "Male rats received psilocybin 0.05 mg/kg or vehicle every other day for two "
            "weeks, then were tested in the elevated plus-maze.",
        ),
    ]
    for rec in includes:
        screening = screener.screen(rec)
        assert screening.criteria["controlled"].verdict == "met", rec["title"]
        assert screening.decision != "exclude", rec["title"]
