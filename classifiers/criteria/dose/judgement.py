"""Judgement: each dose value against its threshold, then the verdict and its reason.

``not_met`` is only given on positive evidence (every compared arm above the
thresholds, a low arm that only serves as an active placebo, a "low-dose" that
belongs to aspirin or CT); anything else not clearly low is ``unclear``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers.criteria.dose.config import (
    ANIMAL_ABOVE,
    BORDERLINE,
    CONVERTED,
    GENERIC,
    HIGH,
    LOW,
    MATERIAL,
    OTHER,
    UNKNOWN,
)
from classifiers.criteria.dose.extraction import is_fresh_weight
from classifiers.criteria.dose.facts import Arm, Facts, Marker, Sentences
from classifiers.criteria.dose_units import GRAM, MG, MG_PER_KG, MG_PER_L, RATE
from classifiers.types import CriterionResult, Evidence, Verdict


def classify_arms(
    arms: list[Arm],
    texts: Mapping[str, str],
    animal: bool,
    p: Mapping[str, Any],
    weight_words: Mapping[str, re.Pattern[str]],
    unscaled_sentences: frozenset[int] = frozenset(),
) -> None:
    """Judge every value of every target arm against the threshold for its unit.

    Doses of an infusion regimen (a rate in the sentence) or given by a route the
    thresholds do not hold for (``unscaled_sentences``, e.g. intravenous) are left
    ``unknown``: they can neither make nor break a low dose.
    """
    rate_sentences = {a.sentence for a in arms if a.dose.unit == RATE} | unscaled_sentences
    for arm in arms:
        if not arm.is_target:
            continue
        if arm.sentence in rate_sentences:  # an infusion regimen or another route
            arm.classes = tuple(UNKNOWN for _ in arm.dose.values)
            arm.equivalents = arm.dose.values
            continue
        arm.fresh = arm.dose.unit == GRAM and is_fresh_weight(arm.dose, texts, weight_words)
        judged = [
            _judge(v, arm.dose.unit, arm.substance, animal, arm.fresh, p) for v in arm.dose.values
        ]
        arm.classes = tuple(c for c, _ in judged)
        arm.equivalents = tuple(e for _, e in judged)


def _judge(
    value: float, unit: str, substance: str | None, animal: bool, fresh: bool, p: Mapping[str, Any]
) -> tuple[str, float]:
    """(class, value on the threshold's scale) for one target dose value."""
    if substance == CONVERTED and unit in (MG, MG_PER_KG):
        value = value / p["converted_per_target"]
    margin = p["about_margin"]
    if unit == MG:
        return _against(value, p["max_mg"], margin), value
    if unit == MG_PER_KG:
        if animal and value > p["max_mg_per_kg"] * 1.0001:
            return ANIMAL_ABOVE, value
        if not animal and p["body_weight_kg"] is not None:  # the protocol's assumed weight
            return _against(value * p["body_weight_kg"], p["max_mg"], margin), value
        return _against(value, p["max_mg_per_kg"], margin), value
    if unit == GRAM:
        limit = p["max_fresh_g"] if fresh else p["max_dried_g"]
        return _against(value, limit, margin), value
    if unit == MG_PER_L and p["max_mg_per_l"] is not None:
        return _against(value, p["max_mg_per_l"], margin), value
    return UNKNOWN, value


def _against(value: float, limit: float, margin: float) -> str:
    """The rule of thumb says "about": just above the limit is neither low nor clearly high."""
    if value <= limit * 1.0001:
        return LOW
    return BORDERLINE if value <= limit * (1 + margin) * 1.0001 else HIGH


# --------------------------------------------------------------------------------------
# Deciding
# --------------------------------------------------------------------------------------


@dataclass(slots=True, unsafe_hash=True)  # not frozen: a frozen __init__ is slow
class _Values:
    low: list[tuple[Arm, float]]
    high: list[tuple[Arm, float]]
    animal_above: list[tuple[Arm, float]]
    role: list[tuple[Arm, float]]
    borderline: list[tuple[Arm, float]]


def _collect(arms: Sequence[Arm], background: Sequence[Marker], sentences: Sentences) -> _Values:
    background_sentences = {sentences.index(m.field, m.start) for m in background}
    low: list[tuple[Arm, float]] = []
    high: list[tuple[Arm, float]] = []
    animal_above: list[tuple[Arm, float]] = []
    role: list[tuple[Arm, float]] = []
    borderline: list[tuple[Arm, float]] = []
    for arm in arms:
        if not arm.is_target:
            continue
        for cls, eq in zip(arm.classes, arm.equivalents, strict=True):
            if arm.role and cls == LOW:
                role.append((arm, eq))
            elif cls == LOW:
                low.append((arm, eq))
            elif cls == HIGH:
                if arm.sentence not in background_sentences:
                    high.append((arm, eq))
            elif cls == ANIMAL_ABOVE:
                animal_above.append((arm, eq))
            elif cls == BORDERLINE:
                borderline.append((arm, eq))
    return _Values(low, high, animal_above, role, borderline)


def decide(facts: Facts, p: Mapping[str, Any]) -> CriterionResult:
    values = _collect(facts.arms, facts.markers["background_terms"], facts.sentences)
    strong = facts.markers["strong_low_terms"]
    if values.role and not values.high:  # a placebo role needs a high arm to serve
        values = _Values(
            values.low + values.role, values.high, values.animal_above, [], values.borderline
        )
    if values.low:
        return _decide_with_low_arm(facts, values, p)
    if values.role:
        return _placebo_role(facts, values, p)
    if values.borderline:
        return _borderline(facts, values, p)
    if values.high and not values.animal_above:
        return _all_high(facts, values, p)
    if values.animal_above:
        return _animal_above_threshold(facts, values, p)
    if strong:
        return _result(
            "met", 0.8, _marker_evidence(facts, strong), "the authors call it a microdose"
        )
    return _without_numbers(facts)


def _decide_with_low_arm(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    arm, eq = min(values.low, key=lambda ae: ae[1])
    strong = facts.markers["strong_low_terms"]
    if values.high and not strong and _looks_like_blinding_arm(facts, values, p):
        high_arm, high_eq = max(values.high, key=lambda ae: ae[1])
        return _result(
            "unclear",
            0.5,
            [arm.evidence(), high_arm.evidence()],
            f"lone {_fmt(eq, arm)} arm beside {_fmt(high_eq, high_arm)} may be an active placebo",
        )
    evidence = [arm.evidence(), *_marker_evidence(facts, strong, limit=1)]
    confidence = 0.95 if strong else 0.9
    if "abstract" not in facts.texts:
        confidence -= 0.1
    limit = _limit_text(arm, p, facts.animal)
    per_person = _per_person(eq, arm, facts, p)
    reason = f"{_fmt(eq, arm)}{per_person} {_name(arm, p)} arm ≤ {limit}"
    return _result("met", confidence, evidence, reason)


def _looks_like_blinding_arm(facts: Facts, values: _Values, p: Mapping[str, Any]) -> bool:
    """A very small arm beside high ones, as in the classic active-placebo design.

    It is taken for a blinding arm when it is the only other dose, or when the
    record names no other comparison condition (no placebo, vehicle, waitlist):
    a dose-ranging study with its own placebo keeps its low arms.
    """
    smallest_arm, smallest = min(values.low, key=lambda ae: ae[1])
    limit = {MG: p["max_mg"], MG_PER_KG: p["max_mg_per_kg"]}.get(smallest_arm.dose.unit)
    if limit is None or smallest > limit * p["active_placebo_max_fraction"] + 1e-9:
        return False
    distinct = {(a.dose.unit, round(eq, 6)) for a, eq in (*values.low, *values.high)}
    return len(distinct) == 2 or not facts.markers["control_terms"]


def _placebo_role(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    """Low arms that only serve another arm: not_met only when that is what they plainly are.

    A phrase naming a placebo or blinding ("active placebo", "to preserve the blind")
    marks a blinding device, and a fixed-dose arm labelled "(control)" beside higher
    ones is the classic active-placebo design: neither makes a low-dose study. But a
    lowest per-kilogram arm only called a "control condition" or "comparator" beside
    several higher per-kilogram doses is the bottom of a dose-ranging (dose-response)
    design, a compared condition: that stays unclear, so such a trial is never
    machine-excluded on its lowest arm.
    """
    role_arm, role_eq = min(values.role, key=lambda ae: ae[1])
    roles = [
        m for m in facts.markers["placebo_role_terms"] if facts.sentences.same(m, role_arm.dose)
    ] or facts.markers["placebo_role_terms"]
    high_arm, high_eq = max(values.high, key=lambda ae: ae[1])
    evidence = [role_arm.evidence(), *_marker_evidence(facts, roles, limit=1), high_arm.evidence()]
    low = _fmt(role_eq, role_arm)
    versus = _fmt(high_eq, high_arm)
    phrases = [facts.texts[m.field][m.start : m.end].lower() for m in roles]
    blinding = any("placebo" in t or "blind" in t for t in phrases)
    higher = {round(eq, 6) for a, eq in values.high if a.dose.unit == MG_PER_KG}
    if not blinding and role_arm.dose.unit == MG_PER_KG and len(higher) >= 2:
        reason = (
            f"lowest arm {low}{_per_person(role_eq, role_arm, facts, p)} is called a control"
            f" beside {len(higher)} higher doses up to {versus}: may be a compared dose level"
        )
        return _result("unclear", 0.5, evidence, reason)
    reason = f"{low} arm is only an active placebo for {versus}, not a low-dose condition"
    return _result("not_met", 0.85, evidence, reason)


def _borderline(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    arm, eq = min(values.borderline, key=lambda ae: ae[1])
    strong = facts.markers["strong_low_terms"]
    text = (
        f"{_fmt(eq, arm)} {_name(arm, p)} is about the limit of {_limit_text(arm, p, facts.animal)}"
    )
    if strong:
        evidence = [arm.evidence(), *_marker_evidence(facts, strong, limit=1)]
        return _result("met", 0.7, evidence, text + " and called a microdose")
    return _result("unclear", 0.5, [arm.evidence()], text)


def _all_high(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    arm, eq = min(values.high, key=lambda ae: ae[1])
    limit = _limit_text(arm, p, facts.animal)
    strong = facts.markers["strong_low_terms"]
    if strong:
        return _result(
            "unclear",
            0.5,
            [arm.evidence(), *_marker_evidence(facts, strong, limit=1)],
            f"lowest {_name(arm, p)} dose {_fmt(eq, arm)} > {limit}, but called a microdose",
        )
    confidence = 0.8 if facts.markers["weak_low_terms"] else 0.9
    return _result(
        "not_met",
        confidence,
        [arm.evidence()],
        f"lowest {_name(arm, p)} dose {_fmt(eq, arm)} > {limit}",
    )


def _animal_above_threshold(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    """Animals: the human mg/kg rule does not transfer; the authors' threshold evidence decides."""
    arm, eq = min(values.animal_above, key=lambda ae: ae[1])
    supporting = facts.markers["strong_low_terms"] + facts.markers["low_effect_terms"]
    if supporting:
        return _result(
            "met",
            0.7,
            [arm.evidence(), *_marker_evidence(facts, supporting, limit=1)],
            f"{_fmt(eq, arm)} in animals shown or called sub-threshold",
        )
    high_effect = facts.markers["high_effect_terms"]
    if high_effect or eq >= p["animal_high_mg_per_kg"]:
        return _result(
            "not_met",
            0.8 if high_effect else 0.7,
            [arm.evidence(), *_marker_evidence(facts, high_effect, limit=1)],
            f"lowest animal dose {_fmt(eq, arm)} > {p['max_mg_per_kg']:g} mg/kg"
            + (" with psychedelic-like behaviour" if high_effect else ""),
        )
    return _result(
        "unclear", 0.5, [arm.evidence()], f"animal dose {_fmt(eq, arm)}: threshold not shown"
    )


def _without_numbers(facts: Facts) -> CriterionResult:
    """No comparable dose: the record's own words are all there is to go on."""
    weak_psychedelic, weak_drug = facts.weak_low()
    if facts.psychedelic_present and weak_psychedelic:
        ev = _marker_evidence(facts, weak_psychedelic)
        high_words = facts.markers["high_effect_terms"]
        if high_words:
            # "at the low dose ... at the high dose": levels of one design, whose low one
            # may still be far above a microdose; a human must read the amounts.
            return _result(
                "unclear",
                0.5,
                ev + _marker_evidence(facts, high_words, limit=1),
                "'low dose' may only name the lower of the study's dose levels: no amount given",
            )
        return _result("met", 0.65, ev, "a psychedelic given at a low dose (no number to check)")
    high_effect = facts.markers["high_effect_terms"]
    if facts.psychedelic_present and high_effect:
        ev = _marker_evidence(facts, high_effect)
        return _result("not_met", 0.7, ev, "full psychedelic doses, no low dose")
    if not facts.psychedelic_present and weak_drug:
        ev = _marker_evidence(facts, weak_drug)
        return _result("not_met", 0.85, ev, "'low dose' refers to a non-psychedelic drug or CT")
    unknown = [a for a in facts.arms if a.is_target or a.substance in (OTHER, GENERIC)]
    ev = [unknown[0].evidence()] if unknown else []
    if not facts.texts:
        return _result("unclear", 0.5, [], "no title or abstract")
    return _result("unclear", 0.5, ev, "no comparable dose and no low-dose wording")


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _result(
    verdict: Verdict, confidence: float, evidence: list[Evidence], reason: str
) -> CriterionResult:
    unique: list[Evidence] = []
    for ev in evidence:
        if ev not in unique:
            unique.append(ev)
    return CriterionResult(verdict, max(0.0, min(1.0, confidence)), unique[:4], reason)


def _marker_evidence(facts: Facts, markers: Sequence[Marker], limit: int = 2) -> list[Evidence]:
    return [m.evidence(facts.texts) for m in markers[:limit]]


def _name(arm: Arm, p: Mapping[str, Any]) -> str:
    if arm.dose.unit == GRAM or arm.substance == MATERIAL:
        return "fresh material" if arm.fresh else "dried material"
    return p["converted_name"] if arm.substance == CONVERTED else p["substance_name"]


def _fmt(value: float, arm: Arm) -> str:
    unit = arm.dose.unit
    if arm.substance == CONVERTED and unit in (MG, MG_PER_KG):
        return f"{arm.dose.text} (≈{value:.3g} {unit} of the target)"
    suffix = {MG: "mg", MG_PER_KG: "mg/kg", GRAM: "g", MG_PER_L: "mg/L"}.get(unit, unit)
    return f"{value:.3g} {suffix}"


def _per_person(eq: float, arm: Arm, facts: Facts, p: Mapping[str, Any]) -> str:
    """A human per-kilogram dose on the per-person scale ("≈3.15 mg for 70 kg"), else ''."""
    if arm.dose.unit != MG_PER_KG or facts.animal:
        return ""
    weight = p["body_weight_kg"] or 70.0
    return f" (≈{eq * weight:.3g} mg for {weight:g} kg)"


def _limit_text(arm: Arm, p: Mapping[str, Any], animal: bool) -> str:
    unit = arm.dose.unit
    if unit == MG_PER_KG and p["body_weight_kg"] is not None and not animal:
        return f"{p['max_mg']:g} mg per person"
    if unit == MG_PER_KG:
        return f"{p['max_mg_per_kg']:g} mg/kg"
    if unit == GRAM:
        return f"{p['max_fresh_g']:g} g fresh" if arm.fresh else f"{p['max_dried_g']:g} g dried"
    if unit == MG_PER_L and p["max_mg_per_l"] is not None:
        return f"{p['max_mg_per_l']:g} mg/L"
    return f"{p['max_mg']:g} mg"


__all__ = ["classify_arms", "decide"]
