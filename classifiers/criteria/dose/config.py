"""The dose criterion's numbers, names and constants, and the validation of its parameters.

Every protocol mistake (an unknown key, a non-positive threshold, a regular
expression that does not compile) raises ValueError naming the key, which the
registry turns into a one-line ``CriterionConfigError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from classifiers.criteria.dose.vocabulary import DEFAULT_TERMS

DEFAULT_NUMBERS: dict[str, float | None] = {
    "max_mg": 5.0,  # psilocybin per person (mg/70 kg counts as per person)
    "max_mg_per_kg": 0.07,  # 50 µg/kg is 3.5 mg per 70 kg
    "max_dried_g": 0.5,  # dried mushrooms or truffles
    "max_fresh_g": 1.5,  # fresh truffles: most of their weight is water
    "max_mg_per_l": None,  # bath concentrations: no threshold; the authors' framing decides
    "converted_per_target": 0.72,  # mg psilocin per mg psilocybin
    "animal_high_mg_per_kg": 0.5,  # animal groups at or above this are not low without evidence
    "about_margin": 0.25,  # "about 5 mg": up to 25% above a limit is borderline, never not_met
    "active_placebo_max_fraction": 0.2,
    # The body weight assumed to put a human per-kilogram dose on the per-person scale.
    # Unset (the default), mg/kg doses are judged against max_mg_per_kg and reasons show
    # the amount for 70 kg, the convention of "mg/70 kg" dosing; set, a human mg/kg dose
    # is multiplied by it and judged against max_mg (animals always stay per kilogram).
    "body_weight_kg": None,  # a lone low arm <= 1 mg beside a high arm looks like one
}

# How reasons name the substances ("2 mg psilocybin arm ≤ 5 mg").
DEFAULT_NAMES: dict[str, str] = {"substance_name": "psilocybin", "converted_name": "psilocin"}

_TERM_PARAMS = tuple(DEFAULT_TERMS)
_NUMBER_PARAMS = tuple(DEFAULT_NUMBERS)

# Mention categories; the first three are the target family.
TARGET, CONVERTED, MATERIAL, OTHER, GENERIC, DRUG = (
    "target",
    "converted",
    "material",
    "other",
    "generic",
    "drug",
)
TARGET_FAMILY = (TARGET, CONVERTED, MATERIAL)
PSYCHEDELIC = (TARGET, CONVERTED, MATERIAL, OTHER, GENERIC)
CATEGORY_PARAM = {
    TARGET: "target_terms",
    CONVERTED: "converted_terms",
    MATERIAL: "material_terms",
    OTHER: "other_psychedelic_terms",
    GENERIC: "generic_terms",
    DRUG: "other_drug_terms",
}

PARAM_CATEGORY = {param: category for category, param in CATEGORY_PARAM.items()}
# Vocabularies read around gram doses only, not in the one-pass scan.
WEIGHT_PARAMS = ("fresh_terms", "dried_terms", "fresh_material_terms")
SCANNED_PARAMS = tuple(
    k for k in _TERM_PARAMS if k != "drug_name_suffixes" and k not in WEIGHT_PARAMS
)
MARKER_PARAMS = tuple(k for k in SCANNED_PARAMS if k not in PARAM_CATEGORY)
# Words ending like drug names that are nevertheless psychedelics.
KNOWN_PSYCHEDELICS = ("tryptamine", "psilocin", "psilocine", "mescaline", "ketamine", "ibogaine")

LOW, BORDERLINE, HIGH, ANIMAL_ABOVE, UNKNOWN = (
    "low",
    "borderline",
    "high",
    "animal_above",
    "unknown",
)


def validated(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params merged over the defaults; a bad or unknown key raises ValueError naming it."""
    merged: dict[str, Any] = {}
    for key in params:
        if key not in DEFAULT_TERMS and key not in DEFAULT_NUMBERS and key not in DEFAULT_NAMES:
            known = ", ".join(sorted((*_TERM_PARAMS, *_NUMBER_PARAMS, *DEFAULT_NAMES)))
            raise ValueError(f"unknown parameter {key!r} for kind 'dose' (known: {known})")
    for key, default_terms in DEFAULT_TERMS.items():
        merged[key] = _term_list(key, params.get(key, default_terms))
    for key, default_number in DEFAULT_NUMBERS.items():
        merged[key] = _number(key, params.get(key, default_number), optional=default_number is None)
    for key, default_name in DEFAULT_NAMES.items():
        value = params.get(key, default_name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"parameter {key!r} must be a non-empty string, got {value!r}")
        merged[key] = value
    if merged["active_placebo_max_fraction"] > 1:
        raise ValueError("parameter 'active_placebo_max_fraction' must be at most 1")
    return merged


def _term_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise ValueError(f"parameter {key!r} must be a list of non-empty strings, got {value!r}")
    for term in value:
        try:
            re.compile(term)
        except re.error as exc:
            raise ValueError(
                f"parameter {key!r}: invalid regular expression {term!r}: {exc}"
            ) from None
    return tuple(value)


def _number(key: str, value: Any, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"parameter {key!r} must be a positive number, got {value!r}")
    return float(value)
