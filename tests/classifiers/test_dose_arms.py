"""Arm-by-arm dose resolution (issue 10): every way papers write dose lists.

Each test is a short record in its own words (not taken from any data set) for one
way of writing the arms of a trial, or one failure kind: a list sharing one unit,
per-kilogram units and the body weight that puts them on the per-person scale,
levels named in parentheses or words, placebo among the levels, a dose-ranging
per-kilogram trial whose lowest arm is low, and a lone tiny arm that is only an
active placebo. Evidence must be the dose phrase itself, never its sentence.
"""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.criteria import build_criterion
from classifiers.criteria.dose import DoseCriterion
from classifiers.criteria.dose_units import MG_PER_KG, find_doses
from classifiers.types import CriterionResult

CRITERION = DoseCriterion()


def judge(abstract: str, title: str = "A psilocybin study", **params: Any) -> CriterionResult:
    rec = {"title": title, "abstract": abstract}
    criterion = DoseCriterion(**params) if params else CRITERION
    result = criterion.evaluate(rec)
    for ev in result.evidence:  # phrases that quote the record exactly
        assert rec[ev.field][ev.start : ev.end] == ev.text
        assert len(ev.text) < 60, f"evidence should be the dose phrase, got {ev.text!r}"
    return result


# --------------------------------------------------------------------------------------
# Real-style includes: every dose form, species and design the protocol admits
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("abstract", "evidence"),
    [
        # human, parallel placebo-controlled, one unit after a list of numbers
        (
            "Adults with low mood were randomised to psilocybin 0.5, 1 or 2 mg or to an"
            " identical placebo capsule every third day for six weeks.",
            "0.5, 1 or 2 mg",
        ),
        # human crossover, per-person dose written per 70 kg
        (
            "In a double-blind crossover, each volunteer took 2 mg/70 kg psilocybin and"
            " placebo on separate days.",
            "2 mg/70 kg",
        ),
        # per-kilogram in micrograms with a list
        (
            "Volunteers took psilocybin at 15 and 30 µg/kg or an inactive placebo in random order.",
            "15 and 30 µg/kg",
        ),
        # per-kilogram exponent notation
        (
            "Psilocybin 0.03 mg kg^-1 or lactose placebo was taken before each session.",
            "0.03 mg kg^-1",
        ),
        # dried mushroom material
        (
            "Students ate 0.25 g of dried Psilocybe cubensis or a matched placebo under"
            " blinded conditions.",
            "0.25 g",
        ),
        # the active form, converted to the target's scale
        (
            "Participants received psilocin 1 mg or placebo in a blinded laboratory study.",
            "1 mg",
        ),
        # rats, mg/kg as the protocol admits for animals
        (
            "Female rats were given psilocybin 0.05 mg/kg or vehicle twice a week and"
            " tested in the forced swim test.",
            "0.05 mg/kg",
        ),
    ],
)
def test_real_style_low_dose_includes_are_met(abstract: str, evidence: str) -> None:
    result = judge(abstract)
    assert result.verdict == "met", result.reason
    assert result.evidence[0].text == evidence


def test_mice_above_the_human_rule_but_without_head_twitches_are_met() -> None:
    result = judge(
        "Mice received psilocybin 0.1 mg/kg or saline daily; this dose did not produce"
        " head-twitch responses but reduced anxiety-like behaviour."
    )
    assert result.verdict == "met"
    assert "sub-threshold" in result.reason


def test_the_authors_word_decides_when_there_is_no_number() -> None:
    result = judge(
        "In this placebo-controlled study, participants microdosed psilocybin every"
        " fourth day for a month."
    )
    assert result.verdict == "met"
    assert result.evidence[0].text.lower().startswith("microdos")


# --------------------------------------------------------------------------------------
# Arm-by-arm resolution
# --------------------------------------------------------------------------------------


def test_one_unit_after_a_list_gives_every_number_that_unit() -> None:
    (dose,) = find_doses("took 0.5, 1 and 2 mg daily", "abstract")
    assert dose.values == (0.5, 1.0, 2.0)
    result = judge("Three groups took psilocybin 0.5, 1 and 2 mg, compared with placebo.")
    assert result.verdict == "met"
    assert result.reason.startswith("0.5 mg psilocybin arm")


@pytest.mark.parametrize(
    ("phrase", "per_kg"),
    [
        ("10 and 20 ug/kg", (0.01, 0.02)),
        ("0.045 mg/kg", (0.045,)),
        ("45 microg/kg", (0.045,)),
        ("0.045 mg.kg-1", (0.045,)),
        ("0.045 mg kg^-1", (0.045,)),
        ("45 µg per kilogram", (0.045,)),
    ],
)
def test_per_kilogram_forms_are_read_per_kilogram(phrase: str, per_kg: tuple[float, ...]) -> None:
    (dose,) = find_doses(f"received {phrase} orally", "abstract")
    assert dose.unit == MG_PER_KG
    assert dose.values == pytest.approx(per_kg)


def test_per_kilogram_reasons_state_the_per_person_amount() -> None:
    result = judge("Psilocybin 0.045 mg/kg or placebo was given to healthy adults.")
    assert result.verdict == "met"
    assert "≈3.15 mg for 70 kg" in result.reason


def test_a_configured_body_weight_puts_human_per_kg_doses_on_the_per_person_scale() -> None:
    text = "Psilocybin 0.08 mg/kg or placebo was given to healthy adults."
    assert judge(text).verdict != "met"  # above 0.07 mg/kg
    light = judge(text, body_weight_kg=60.0)  # 4.8 mg for 60 kg: at most 5 mg
    assert light.verdict == "met"
    assert "5 mg per person" in light.reason and "for 60 kg" in light.reason


def test_body_weight_must_be_a_positive_number() -> None:
    with pytest.raises(ValueError, match="body_weight_kg"):
        build_criterion({"name": "low_dose", "kind": "dose", "body_weight_kg": -70})


def test_levels_named_in_parentheses_resolve_to_their_own_doses() -> None:
    result = judge(
        "Participants were assigned to low (1 mg), medium (10 mg) or high (25 mg)"
        " psilocybin, or to placebo."
    )
    assert result.verdict == "met"
    assert result.evidence[0].text == "1 mg"


def test_levels_named_in_words_resolve_to_their_own_doses() -> None:
    result = judge(
        "The trial compared a high dose of 25 mg, a moderate dose of 10 mg and a small"
        " dose of 2 mg of psilocybin with an inert placebo."
    )
    assert result.verdict == "met"
    assert result.evidence[0].text == "2 mg"


def test_placebo_written_among_the_levels_is_not_a_dose() -> None:
    result = judge(
        "Healthy volunteers received psilocybin at 0 (placebo), 4, 12 and 24 mg/70 kg"
        " in counterbalanced order."
    )
    assert result.verdict == "met"
    assert result.reason.startswith("4 mg")


# --------------------------------------------------------------------------------------
# Failure kinds: never not_met while a compared arm is under the threshold
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "abstract",
    [
        "A dose-response trial gave healthy adults psilocybin at 0.04, 0.12, 0.2 and"
        " 0.3 mg/kg in ascending order, each with a placebo session.",
        "Oral psilocybin was given at four doses (40 µg/kg, 120 µg/kg, 200 µg/kg and"
        " 300 µg/kg) to eight volunteers.",
        "Volunteers received psilocybin 0.04 mg/kg, 0.12 mg/kg and 0.25 mg/kg in a"
        " dose-finding study; the 0.04 mg/kg dose was the comparison condition.",
    ],
)
def test_a_dose_ranging_per_kg_trial_with_a_low_lowest_arm_is_never_not_met(
    abstract: str,
) -> None:
    result = judge(abstract)
    assert result.verdict != "not_met", result.reason
    assert "0.04 mg/kg" in result.reason


def test_a_lone_tiny_arm_beside_a_high_dose_is_not_a_low_dose_study() -> None:
    result = judge(
        "Patients with alcohol use disorder took psilocybin 25 mg or psilocybin 1 mg,"
        " the latter given as an active placebo so that expectancy was matched."
    )
    assert result.verdict == "not_met"
    assert "only an active placebo" in result.reason
    assert [ev.text for ev in result.evidence] == ["1 mg", "active placebo", "25 mg"]


def test_an_unlabelled_lone_tiny_arm_beside_a_high_dose_is_left_to_a_human() -> None:
    result = judge("Participants took psilocybin 30 mg or 1 mg in two blinded sessions.")
    assert result.verdict == "unclear"
    assert "may be an active placebo" in result.reason


def test_high_doses_alone_are_not_met_with_the_lowest_as_evidence() -> None:
    result = judge("Patients received psilocybin 10 mg and 25 mg in an open trial.")
    assert result.verdict == "not_met"
    assert result.evidence[0].text == "10 mg"
    assert "lowest psilocybin dose 10 mg > 5 mg" in result.reason


def test_a_zero_level_is_the_placebo_arm_not_a_low_dose() -> None:
    (dose,) = find_doses("doses of 0, 1 and 3 mg", "abstract")
    assert dose.values == (1.0, 3.0)
    high = judge("Psilocybin at 0, 10 and 25 mg was compared in a dose-response study.")
    assert high.verdict == "not_met"
    assert "lowest psilocybin dose 10 mg" in high.reason
    low = judge(
        "Psilocybin doses of 0, 1, 3 and 10 mg were compared in a placebo-controlled study."
    )
    assert low.verdict == "met"
    assert low.reason.startswith("1 mg")


def test_an_intravenous_dose_is_not_compared_with_the_oral_thresholds() -> None:
    oral = judge("Volunteers received 2 mg psilocybin or placebo by mouth.")
    assert oral.verdict == "met"
    iv = judge("Volunteers received intravenous infusions of placebo and of 2 mg psilocybin.")
    assert iv.verdict == "unclear"
