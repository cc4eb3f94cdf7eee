"""Registry errors and the per-record decision."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.criteria import CRITERION_KINDS, CriterionConfigError, build_criterion
from classifiers.screen import BANDS, Screener
from classifiers.types import CriterionResult, Evidence

from .helpers import flagship_config, flagship_screener, record


# ---------------------------------------------------------------- registry
def test_registry_maps_the_four_kinds() -> None:
    assert {"substance", "design", "publication_type", "dose"} <= set(CRITERION_KINDS)
    for config in flagship_config():
        assert build_criterion(config).name == config["name"]


def test_unknown_kind_names_criterion_and_kind() -> None:
    with pytest.raises(CriterionConfigError, match=r"'psilocybin'.*unknown kind 'substanse'"):
        build_criterion({"name": "psilocybin", "kind": "substanse", "terms": ["x"]})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"name": "ps", "kind": "substance"}, r"'ps'.*'terms'.*required"),
        ({"name": "ps", "kind": "substance", "terms": ["psilocybin("]}, r"'ps'.*'terms'.*invalid"),
        (
            {"name": "ps", "kind": "substance", "terms": "x", "trems": ["y"]},
            r"'ps'.*'trems'.*unknown",
        ),
        ({"name": "ct", "kind": "design", "comparators": [1, 2]}, r"'ct'.*'comparators'.*list"),
        (
            {"name": "pr", "kind": "publication_type", "trial_protocols_count": "yes"},
            r"'pr'.*true or false",
        ),
        ({"kind": "design"}, r"missing 'name'"),
        ({"name": "x"}, r"'x': missing 'kind'"),
    ],
)
def test_bad_parameters_raise_config_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(CriterionConfigError, match=message):
        build_criterion(config)


def test_duplicate_names_rejected() -> None:
    config = {"name": "a", "kind": "design"}
    with pytest.raises(CriterionConfigError, match="unique"):
        Screener.from_config([config, config])


# ---------------------------------------------------------------- decisions
class Fixed:
    def __init__(self, name: str, result: CriterionResult) -> None:
        self.name = name
        self.result = result

    def evaluate(self, rec: dict[str, Any]) -> CriterionResult:
        return self.result


def ev(field: str = "abstract") -> list[Evidence]:
    return [Evidence(field, 0, 3, "abc")]


def screen(results: list[CriterionResult], abstract: str | None = "abc def") -> Any:
    criteria = [Fixed(f"c{i}", r) for i, r in enumerate(results)]
    return Screener(criteria).screen({"title": "abc title", "abstract": abstract})


def test_include_only_when_every_criterion_is_met() -> None:
    met = CriterionResult("met", 0.9, ev())
    assert screen([met, met]).decision == "include"
    assert screen([met, CriterionResult("unclear", 0.5)]).decision == "uncertain"


def test_exclude_names_the_failing_criterion_and_needs_evidence() -> None:
    met = CriterionResult("met", 0.9, ev())
    s = screen([met, CriterionResult("not_met", 0.9, ev())])
    assert s.decision == "exclude" and s.failed == ["c1"]
    assert s.to_json()["criteria"]["c1"]["evidence"][0]["text"] == "abc"
    # not met without evidence, or not confident enough: uncertain, never exclude
    assert screen([met, CriterionResult("not_met", 0.9, [])]).decision == "uncertain"
    assert screen([met, CriterionResult("not_met", 0.6, ev())]).decision == "uncertain"


def test_missing_abstract_is_never_excluded_on_absence_alone() -> None:
    met = CriterionResult("met", 0.9, ev("title"))
    absent = CriterionResult("not_met", 0.95, ev("abstract"))  # no title evidence
    assert screen([met, absent], abstract=None).decision == "uncertain"
    ruled_out = CriterionResult("not_met", 0.9, ev("title"))
    assert screen([met, ruled_out], abstract=None).decision == "exclude"
    # a title-only record is at most uncertain, even when everything is met
    assert screen([met, met], abstract=None).decision == "uncertain"


def test_p_include_orders_decisions() -> None:
    met = CriterionResult("met", 0.9, ev())
    p_inc = screen([met, met]).p_include
    p_unc = screen([met, CriterionResult("unclear", 0.5)]).p_include
    p_exc = screen([met, CriterionResult("not_met", 0.95, ev())]).p_include
    assert 1 >= p_inc > p_unc > p_exc >= 0
    assert BANDS["include"][0] <= p_inc and p_exc < BANDS["exclude"][1]


def test_to_json_shape() -> None:
    s = flagship_screener().screen(
        record(
            "Psilocybin 1 mg versus placebo for low mood: protocol for a randomised trial",
            "Adults will be randomised to psilocybin 1 mg or placebo twice weekly.",
            types=["Journal Article", "Clinical Trial Protocol"],
        )
    )
    out = s.to_json()
    assert {"decision", "p_include", "criteria"} <= set(out)
    assert set(out["criteria"]) == {"psilocybin", "low_dose", "controlled", "primary_study"}
    for crit in out["criteria"].values():
        assert {"verdict", "confidence", "evidence"} <= set(crit)
        for e in crit["evidence"]:
            assert set(e) == {"field", "start", "end", "text"}
    assert out["ongoing"] is True and s.decision == "include"


def test_off_topic_and_title_only_records() -> None:
    screener = flagship_screener()
    aspirin = screener.screen(
        record("Low-dose aspirin after revascularisation: a randomized trial")
    )
    assert aspirin.decision == "exclude" and "psilocybin" in aspirin.failed
    unknown = screener.screen(record("Microdosing and creativity: a field study"))
    assert unknown.decision == "uncertain"
    review = screener.screen(record("Microdosing psilocybin: a narrative review", types=["Review"]))
    assert review.decision == "exclude" and review.failed == ["primary_study"]


def test_short_circuit_keeps_the_decision() -> None:
    rec = record(
        "Low-dose CT in never-smokers", "We screened 12,011 never-smokers with low-dose CT."
    )
    full = flagship_screener().screen(rec)
    fast = flagship_screener(short_circuit=True).screen(rec)
    assert full.decision == fast.decision == "exclude"
    assert fast.criteria["controlled"].reason.startswith("not evaluated")
