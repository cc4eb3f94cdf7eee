"""Tricky phrases for the substance, design and publication_type kinds."""

from __future__ import annotations

import pytest

from classifiers.criteria import build_criterion
from classifiers.types import CriterionResult

from .helpers import criterion_config, record


def judge(criterion: str, rec: dict) -> CriterionResult:
    result = build_criterion(criterion_config(criterion)).evaluate(rec)
    for ev in result.evidence:  # evidence always indexes the record's text exactly
        assert rec[ev.field][ev.start : ev.end] == ev.text
    return result


RCT = "We randomised 60 adults to {arm} or placebo twice weekly for six weeks."


# ---------------------------------------------------------------- substance
@pytest.mark.parametrize(
    ("title", "abstract", "verdict"),
    [
        ("Mood after microdoses", RCT.format(arm="psilocybin 1 mg"), "met"),
        ("Mood after microdoses", RCT.format(arm="psilocin 500 µg"), "met"),
        ("Mood after microdoses", RCT.format(arm="0.2 g dried Psilocybe cubensis"), "met"),
        ("Mood", RCT.format(arm="4-phosphoryloxy-N,N-dimethyltryptamine 2 mg"), "met"),
        ("Three psychedelics", RCT.format(arm="LSD (10 µg), psilocybin (1 mg)"), "met"),
        ("Mood", RCT.format(arm="LSD 10 µg"), "not_met"),
        ("Mood", RCT.format(arm="ketamine 10 mg"), "not_met"),
        ("4-AcO-DMT microdosing", RCT.format(arm="4-AcO-DMT 2 mg"), "not_met"),
        ("A deuterated psilocin analogue at low doses", RCT.format(arm="DPT-411 1 mg"), "not_met"),
        (
            "Baeocystin, a minor Psilocybe alkaloid, in mice",
            "Mice received baeocystin 0.05 mg/kg or vehicle.",
            "not_met",
        ),
        (
            "Amanita muscaria microdosing",
            "Capsules of A. muscaria sold as 'legal magic mushrooms' were taken nightly. The "
            "product contained no psilocybin.",
            "not_met",
        ),
        (
            "Heterologous production of psilocybin in yeast",
            "We engineered yeast to produce psilocybin by fermentation.",
            "not_met",
        ),
    ],
)
def test_substance_verdicts(title: str, abstract: str, verdict: str) -> None:
    assert judge("psilocybin", record(title, abstract)).verdict == verdict


def test_psilocybin_only_in_background_of_another_drug() -> None:
    rec = record(
        "Cortical oscillations after microdoses of LSD",
        "Unlike psilocybin, whose action is short, LSD acts for 8-12 hours. "
        "Twenty participants received LSD 10 µg and placebo in randomised order. "
        "Previous psilocybin microdosing studies were not replicated here.",
    )
    result = judge("psilocybin", rec)
    assert result.verdict == "not_met" and result.evidence


def test_psilocybin_as_exclusion_criterion_is_not_exposure() -> None:
    rec = record(
        "Low-dose oral ketamine in palliative care",
        "We randomised 74 adults, none of whom had ever used psilocybin or mushrooms, "
        "to oral ketamine 0.5 mg/kg or placebo.",
    )
    assert judge("psilocybin", rec).verdict == "not_met"


def test_mesh_fallback_when_the_abstract_names_no_substance() -> None:
    text = "Nurses were randomised to the study psychedelic (1 mg) or matching placebo."
    met = judge(
        "psilocybin", record("Psychedelic microdosing in nurses", text, mesh=["Psilocybin"])
    )
    assert met.verdict == "met" and "MeSH" in met.reason
    lsd = judge(
        "psilocybin",
        record("Psychedelic microdosing in ADHD", text, mesh=["Lysergic Acid Diethylamide"]),
    )
    assert lsd.verdict == "not_met"
    neither = judge("psilocybin", record("Psychedelic microdosing in ADHD", text))
    assert neither.verdict == "unclear"


def test_title_only_substance() -> None:
    assert (
        judge("psilocybin", record("Sub-perceptual doses of LSD and memory")).verdict == "not_met"
    )
    assert (
        judge("psilocybin", record("Microdosing and creativity: a field study")).verdict
        == "unclear"
    )
    assert judge("psilocybin", record("Truffle microdosing among students")).verdict == "met"


# ---------------------------------------------------------------- design
@pytest.mark.parametrize(
    ("abstract", "verdict"),
    [
        (RCT.format(arm="psilocybin 1 mg"), "met"),
        ("Rats received psilocybin 0.05 mg/kg or matched vehicle.", "met"),
        (
            "Participants took psilocybin capsules or identical-looking capsules containing no "
            "active drug.",
            "met",
        ),
        ("Each block used psilocybin 1 mg or inactive capsules of identical appearance.", "met"),
        ("Participants and assessors were blinded to condition across two sessions.", "met"),
        (
            "Patients were allocated to psilocybin 3 mg or niacin 50 mg as an active comparator.",
            "met",
        ),
        (
            "Staff were allocated to start microdosing immediately or after a ten-week waiting "
            "period.",
            "met",
        ),
        ("Users completed four weeks of microdoses and four self-blinded placebo weeks.", "met"),
        ("Microdosers and a non-microdosing comparison group were followed for 60 days.", "met"),
        (
            "In this open-label pilot study, 20 adults took psilocybin 1 mg. No placebo group "
            "was included.",
            "not_met",
        ),
        (
            "Adults took psilocybin truffles for six weeks. In the absence of a control "
            "condition, changes cannot be attributed to the truffles.",
            "not_met",
        ),
        ("Rats received psilocybin 0.05 mg/kg. No vehicle-treated group was included.", "not_met"),
        (
            "Previous placebo-controlled studies reported few adverse events. We analysed an "
            "online survey of 2,031 microdosers.",
            "not_met",
        ),
        (
            "Eighteen patients took psilocybin 2 mg in a single-arm pilot. A randomised, "
            "placebo-controlled trial is needed.",
            "not_met",
        ),
        (
            "We describe three patients with poorly controlled cluster headache who microdosed "
            "mushrooms; these observations are uncontrolled.",
            "not_met",
        ),
        (
            "We studied 41 patients on the waitlist for psychotherapy in a single-group study; "
            "all took psilocybin 1.5 mg.",
            "not_met",
        ),
        ("Scores were compared with published norms from healthy controls.", "not_met"),
        ("Each participant served as their own control over four weeks of microdosing.", "not_met"),
        (
            "We conducted semi-structured interviews with 24 microdosers and a thematic analysis.",
            "not_met",
        ),
    ],
)
def test_design_verdicts(abstract: str, verdict: str) -> None:
    result = judge("controlled", record("A study of psilocybin microdosing", abstract))
    assert result.verdict == verdict, result.reason
    assert result.evidence


def test_design_title_only() -> None:
    assert (
        judge("controlled", record("Psilocybin 1 mg versus placebo: a randomised trial")).verdict
        == "met"
    )
    assert judge("controlled", record("Truffle microdosing: an online survey")).verdict == "not_met"
    assert (
        judge("controlled", record("Psilocybin microdosing and mood: a six-week study")).verdict
        == "unclear"
    )


def test_design_of_reviews_reflects_the_evidence_discussed() -> None:
    review = ["Journal Article", "Review"]
    controlled = "In this review we summarise placebo-controlled studies of psilocybin microdosing."
    assert judge("controlled", record("Microdosing", controlled, types=review)).verdict == "met"
    silent = "In this review we discuss receptor pharmacology of psilocin."
    assert judge("controlled", record("Microdosing", silent, types=review)).verdict == "unclear"


# ---------------------------------------------------------------- publication type
def test_reviews_editorials_comments_not_primary() -> None:
    for types in (["Review"], ["Systematic Review", "Meta-Analysis"], ["Editorial"], ["Comment"]):
        assert (
            judge("primary_study", record("Microdosing", "Some text.", types=types)).verdict
            == "not_met"
        )


def test_review_indexed_only_as_journal_article_is_detected_from_text() -> None:
    rec = record(
        "Microdosing psilocybin in animal models: a critical appraisal of dose selection",
        "Here we appraise 23 rodent and zebrafish studies that compared low doses with vehicle.",
    )
    result = judge("primary_study", rec)
    assert result.verdict == "not_met" and result.evidence
    plain = record("Microdosing", "In this review we discuss the evidence for microdosing.")
    assert judge("primary_study", plain).verdict == "not_met"


def test_trial_protocol_is_met_and_flagged_ongoing() -> None:
    rec = record(
        "Psilocybin 2 mg for fatigue: protocol for a double-blind, parallel-group trial",
        "Adults will be randomised to psilocybin 2 mg or placebo.",
        types=["Journal Article", "Clinical Trial Protocol"],
    )
    result = judge("primary_study", rec)
    assert result.verdict == "met"
    assert result.to_json()["ongoing"] is True
    review_protocol = record(
        "Low-dose psilocybin: protocol for a systematic review and meta-analysis",
        "We will search five databases.",
    )
    assert judge("primary_study", review_protocol).verdict == "not_met"


def test_research_letter_with_data_is_primary_commenting_letter_is_not() -> None:
    data = record(
        "Psilocybin microdoses in PMDD",
        "To the Editor: We report original data from a small double-blind crossover study.",
        types=["Letter"],
    )
    assert judge("primary_study", data).verdict == "met"
    comment = record(
        "Blinding in microdosing trials: a letter in response",
        "We read with interest the recent trial. We do not present new data.",
        types=["Letter", "Comment"],
    )
    assert judge("primary_study", comment).verdict == "not_met"


def test_secondary_analysis_and_conference_abstract_are_primary() -> None:
    secondary = record(
        "Expectancy in a microdosing trial: a secondary analysis",
        "This secondary analysis used data from a completed double-blind trial.",
    )
    assert judge("primary_study", secondary).verdict == "met"
    conference = record(
        "P.0421 Psilocybin 1.5 mg for smoking: first results", "Methods: Smokers were allocated."
    )
    assert judge("primary_study", conference).verdict == "met"


def test_title_only_publication_type() -> None:
    assert (
        judge(
            "primary_study", record("Microdosing psilocybin: a narrative review", types=["Review"])
        ).verdict
        == "not_met"
    )
    assert (
        judge("primary_study", record("Psilocybin microdosing: where do we stand?")).verdict
        == "unclear"
    )
    assert (
        judge(
            "primary_study", record("Psilocybin microdosing and creativity: a field study")
        ).verdict
        == "met"
    )
