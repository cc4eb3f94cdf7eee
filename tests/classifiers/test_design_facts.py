"""The controlled criterion judges design facts, one failure kind per test (own phrasings).

Each test states what a reader of the abstract would conclude about the comparison
condition, and checks the screener concludes the same, or at least never excludes an
eligible record on a design it could not read.
"""

from __future__ import annotations

from typing import Any

from classifiers.types import CriterionResult

from .helpers import flagship_screener, record


def controlled(rec: dict[str, Any]) -> CriterionResult:
    return flagship_screener().screen(rec).criteria["controlled"]


def test_placebo_given_to_everyone_is_one_condition_not_a_control() -> None:
    rec = record(
        "Expectation alone: a placebo 'mushroom' session at a music festival",
        "All volunteers were given a placebo described as a small dose of psilocybin, and "
        "actors hinted at its effects. Afterwards half of them reported altered perception.",
    )
    result = controlled(rec)
    assert result.verdict == "not_met"
    assert any("placebo" in e.text for e in result.evidence)


def test_single_arm_named_in_the_abstract_outweighs_placebo_words() -> None:
    rec = record(
        "Psilocybin microdoses and placebo expectations in migraine",
        "This single-arm study gave 20 patients 1 mg psilocybin twice weekly. Diaries were "
        "set against placebo response rates; a placebo response in migraine is large.",
    )
    assert controlled(rec).verdict == "not_met"


def test_qualitative_data_collected_inside_a_trial_do_not_make_it_uncontrolled() -> None:
    rec = record(
        "Low-dose psilocybin for rumination: a pilot randomised trial",
        "Forty adults were randomised to 2 mg psilocybin or to a 0.2 mg control dose every "
        "fourth day for a month. Rumination scales were the primary outcome, and "
        "qualitative data were collected in exit interviews with both groups.",
    )
    assert controlled(rec).verdict == "met"


def test_an_extension_phase_compared_with_baseline_is_not_controlled() -> None:
    rec = record(
        "Repeated psilocybin in the open extension phase of a randomized controlled trial",
        "Participants of the earlier trial could return for a further course. Twelve did; "
        "their symptom diaries were compared with their own pre-treatment weeks, and "
        "symptoms fell by a third.",
    )
    result = controlled(rec)
    assert result.verdict == "not_met"
    assert any(e.field == "title" for e in result.evidence)


def test_an_observational_study_that_calls_for_controlled_trials_is_not_controlled() -> None:
    rec = record(
        "Outcomes after psilocybin retreats: a prospective observational study",
        "In an observational study, 45 retreat guests who chose to take psilocybin "
        "truffles completed mood scales before and a month after. Mood improved, "
        "warranting controlled trials.",
    )
    assert controlled(rec).verdict == "not_met"


def test_forum_and_online_text_analyses_are_not_controlled() -> None:
    for title, abstract in [
        (
            "What microdosers write about: topics in an online forum",
            "We collected 9,000 public forum posts about microdosing mushrooms and applied "
            "topic modelling; benefits and side effects were the commonest themes.",
        ),
        (
            "Talking about microdoses on Reddit",
            "Comments from a microdosing subreddit were coded to describe dosing habits "
            "and expectations of people taking psilocybin.",
        ),
    ]:
        assert controlled(record(title, abstract)).verdict == "not_met", title


def test_crowd_sourced_reports_outside_a_blinded_model_are_not_controlled() -> None:
    rec = record(
        "Ten years of microdosing reports from the public",
        "We summarise crowd-sourced accounts sent by thousands of people who microdose "
        "psilocybin, and discuss validity outside a double-blind experimental model.",
    )
    assert controlled(rec).verdict == "not_met"


def test_assay_chemistry_with_nobody_dosed_is_not_controlled() -> None:
    rec = record(
        "Psilocybin content of retail microdosing capsules",
        "Capsules bought from twelve online shops were analysed by liquid chromatography "
        "with mass spectrometry; the psilocybin content of the capsules varied fourfold.",
    )
    result = controlled(rec)
    assert result.verdict == "not_met"
    assert result.evidence


def test_a_dosed_animal_experiment_that_does_not_name_its_control_is_unclear() -> None:
    rec = record(
        "Psilocybin and fear extinction in mice",
        "Mice were given psilocybin 0.05 mg/kg every other day for two weeks and tested in "
        "a fear-conditioning paradigm. Extinction was faster after treatment.",
    )
    result = controlled(rec)
    assert result.verdict == "unclear"
    assert flagship_screener().screen(rec).decision == "uncertain"


def test_animals_kept_on_standard_food_are_a_comparison_group() -> None:
    rec = record(
        "Dried psilocybin mushroom in the diet of fly larvae",
        "Larvae were raised on food mixed with dried mushroom powder and compared them with "
        "larvae on standard food; development and survival were recorded.",
    )
    assert controlled(rec).verdict == "met"


def test_a_randomised_trial_reporting_change_from_baseline_stays_controlled() -> None:
    rec = record(
        "Psilocybin microdosing and sleep quality",
        "In a randomised, double-blind study, 50 adults took 1 mg psilocybin every third "
        "day; sleep quality improved from baseline by week four.",
    )
    assert controlled(rec).verdict == "met"


def test_open_label_said_in_the_abstract_without_a_comparison_is_not_controlled() -> None:
    rec = record(
        "Psilocybin microdoses for cluster headache",
        "Eighteen patients took 0.5 g dried mushroom weekly in this open-label study and "
        "kept attack diaries; attacks became less frequent.",
    )
    assert controlled(rec).verdict == "not_met"


def test_a_review_of_surveys_and_trials_together_is_unclear() -> None:
    rec = record(
        "Microdosing research so far: a scoping review",
        "We mapped 30 studies: online surveys, self-report diaries, qualitative interviews "
        "and three placebo-controlled trials.",
        types=["Journal Article", "Review"],
    )
    assert controlled(rec).verdict == "unclear"


def test_a_meta_analysis_of_randomized_trials_concerns_controlled_evidence() -> None:
    rec = record(
        "Low-dose aspirin for pre-eclampsia: a meta-analysis of randomized trials",
        "Trials comparing low-dose aspirin with no treatment were pooled; risk fell by 15%.",
        types=["Journal Article", "Meta-Analysis"],
    )
    assert controlled(rec).verdict == "met"


def test_a_review_that_finds_few_randomized_trials_is_not_read_as_reviewing_them() -> None:
    rec = record(
        "Ayahuasca in psychiatry: a clinical overview",
        "Because of legal barriers there are few double-blind randomized trials, and most "
        "reports are small.",
        types=["Journal Article", "Review"],
    )
    assert controlled(rec).verdict != "met"


def test_the_placebo_effect_is_not_a_placebo_condition() -> None:
    rec = record(
        "Is microdosing an effective placebo?",
        "This opinion piece weighs user testimonials and anecdotal reports against one "
        "placebo-controlled trial, and asks what the placebo effect means for users.",
        types=["Editorial"],
    )
    assert controlled(rec).verdict == "unclear"
