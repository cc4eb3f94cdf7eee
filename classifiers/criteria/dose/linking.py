"""Linking: which substance a dose belongs to, and which arms only serve as a placebo.

Every search here looks only at a bounded window around the dose or phrase (found
by bisection in offset-sorted lists), so a record of any length costs time linear
in its number of doses and phrases: a hostile abstract of thousands of doses in one
sentence without a full stop cannot stall the screening.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from classifiers.criteria.dose.config import (
    CONVERTED,
    DRUG,
    GENERIC,
    HIGH,
    KNOWN_PSYCHEDELICS,
    LOW,
    MATERIAL,
    OTHER,
    TARGET,
    TARGET_FAMILY,
)
from classifiers.criteria.dose.facts import Arm, Marker, Mention, Sentences, SpanIndex

# Words between a dose and a substance (or a role phrase) that point to a different arm.
_ARM_BREAK = re.compile(r"\b(?:or|versus|vs\.?|against|compared with|than|whereas|while)\b|;")
_OF_LINK = re.compile(r"^\s*(?:of|of the|of an?)\b")
_LINK_MAX_GAP = 120
_ROLE_MAX_GAP = 60
_BREAK_PENALTY = 25
_GENERIC_PENALTY = 30
_OF_BONUS = 5  # "1 mg of psilocybin": a following "of" binds tighter


def main_substance(mentions: Sequence[Mention]) -> str | None:
    """The record's psychedelic: where a dose names none, it is this one's dose."""
    target = sum(1 for m in mentions if m.category in TARGET_FAMILY)
    other = sum(1 for m in mentions if m.category == OTHER)
    if target and target >= other:
        pure = sum(1 for m in mentions if m.category in (TARGET, CONVERTED))
        return TARGET if pure or not target else MATERIAL
    if other:
        return OTHER
    if any(m.category == GENERIC for m in mentions):
        return GENERIC
    return None


def link_arms(
    arms: Sequence[Arm],
    mentions: Sequence[Mention],
    texts: Mapping[str, str],
    sentences: Sentences,
    main: str | None,
    drug_suffixes: tuple[str, ...],
) -> None:
    """Set each arm's substance from the mentions of its sentence (see ``link``)."""
    index = SpanIndex(mentions)
    for arm in arms:
        dose = arm.dose
        # only mentions close enough to win: a link costs at most _LINK_MAX_GAP characters
        candidates = index.near(
            dose.field,
            dose.start - _LINK_MAX_GAP,
            dose.end + _LINK_MAX_GAP + _OF_BONUS + 1,
            sentences.bounds(dose.field, dose.start),
        )
        linked = link(arm, candidates, texts, main)
        arm.substance = owned_by_adjacent_drug(arm, texts, drug_suffixes) or linked


def owned_by_adjacent_drug(
    arm: Arm, texts: Mapping[str, str], drug_suffixes: tuple[str, ...]
) -> str | None:
    """DRUG when an unlisted drug is written right before the dose ("hydroxychloroquine 400 mg")."""
    text = texts[arm.dose.field]
    before = text[max(0, arm.dose.start - 30) : arm.dose.start].rstrip(" (")
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lower()
    if word.endswith(drug_suffixes) and word.isalpha() and not word.endswith(KNOWN_PSYCHEDELICS):
        return DRUG
    return None


def link(
    arm: Arm, candidates: Sequence[Mention], texts: Mapping[str, str], main: str | None
) -> str | None:
    """The substance a dose belongs to: the nearest mention in its sentence, else the main one.

    Distance is counted in characters; words that introduce another arm ("or",
    "versus") between the two add a penalty, so "LSD (10 µg) or psilocybin (1 mg)"
    links each dose to its own substance.
    """
    dose = arm.dose
    text = texts[dose.field]
    best: tuple[float, str] | None = None
    for m in candidates:
        if m.field != dose.field:
            continue
        if m.end <= dose.start:
            between = text[m.end : dose.start]
            score = float(len(between))
        elif m.start >= dose.end:
            between = text[dose.end : m.start]
            score = float(len(between))
            if _OF_LINK.match(between):
                score -= _OF_BONUS
        else:
            between, score = "", 0.0
        if m.category == GENERIC:
            score += _GENERIC_PENALTY
        if score > _LINK_MAX_GAP or (best is not None and score >= best[0]):
            continue  # penalties only add: this one cannot win
        if between:
            score += _BREAK_PENALTY * len(_ARM_BREAK.findall(between))
        if score <= _LINK_MAX_GAP and (best is None or score < best[0]):
            best = (score, m.category)
    category = best[1] if best else main
    if category == GENERIC:
        return main if main != GENERIC else GENERIC
    return category


def mark_placebo_roles(
    arms: list[Arm],
    roles: Sequence[Marker],
    blockers: Sequence[Marker],
    mentions: Sequence[Mention],
    texts: Mapping[str, str],
    sentences: Sentences,
) -> None:
    """Flag low target arms that a role phrase ("used as an active placebo") describes.

    The phrase belongs to the nearest dose of its sentence, unless a comparator
    drug, another condition (placebo, vehicle) or a word like "or" stands between
    them: then it describes another arm. Only a dose whose values are all low can
    be a placebo arm (a dose-ranging list never is), and when a phrase belongs to
    a high dose ("a 25 mg active comparator") the high dose is the comparator, so
    no low arm is flagged. A flagged value is flagged wherever it recurs (title).
    """
    flagged_values: set[tuple[str, float]] = set()
    if not roles:
        return
    arm_index = SpanIndex(arms)
    blocker_index = SpanIndex(blockers)
    drugs = SpanIndex(m for m in mentions if m.category == DRUG)
    for role in roles:
        found = _nearest_arm(role, arm_index, blocker_index, drugs, texts, sentences)
        if found is None or not found[0].is_target:
            continue
        arm, gap = found
        if any(c != LOW for c in arm.classes):
            if HIGH not in arm.classes:
                continue
            phrase = texts[role.field][role.start : role.end].lower()
            if gap <= 3 and "low" not in phrase and "minimal" not in phrase:
                return  # "a 25 mg active comparator": the low arms are the study
            continue
        flagged_values.update((arm.dose.unit, v) for v in arm.dose.values)
    if not flagged_values:
        return
    for arm in arms:
        if arm.is_target and all((arm.dose.unit, v) in flagged_values for v in arm.dose.values):
            arm.role = True


def _nearest_arm(
    role: Marker,
    arms: SpanIndex[Arm],
    blockers: SpanIndex[Marker],
    drugs: SpanIndex[Mention],
    texts: Mapping[str, str],
    sentences: Sentences,
) -> tuple[Arm, int] | None:
    """The dose a role phrase describes, with the number of characters between them.

    Only doses within _ROLE_MAX_GAP characters of the phrase are looked at.
    """
    text = texts[role.field]
    best: tuple[int, Arm] | None = None
    window = arms.near(
        role.field, role.start - _ROLE_MAX_GAP, role.end + _ROLE_MAX_GAP + 1, (0, 1 << 62)
    )
    for arm in window:
        d = arm.dose
        if not sentences.same(d, role):
            continue
        lo, hi = (d.end, role.start) if d.end <= role.start else (role.end, d.start)
        if hi < lo:
            continue
        between = text[lo:hi]
        if len(between) > _ROLE_MAX_GAP or _ARM_BREAK.search(between):
            continue
        if drugs.inside(role.field, lo, hi) or blockers.inside(role.field, lo, hi):
            continue
        if best is None or len(between) < best[0]:
            best = (len(between), arm)
    return (best[1], best[0]) if best else None
