"""The ``dose`` criterion kind: is the dose a study gives a low ("micro") dose?

Doses decide, words only break ties. Published trials state doses as bare
numbers (mg, mg/kg, mg/70 kg, grams of dried mushroom, µg of psilocin) and
rarely call them "micro", while relative "low dose" naming is common for doses
that are not low at all. So the criterion reads every dose, links it to the
substance it belongs to, puts it on the review's scale and compares it with
the protocol's thresholds; vocabulary ("microdose", "sub-perceptual", "below
the head-twitch threshold") is used where the numbers are missing or cannot be
compared (other species, other substances, bath concentrations).

The review must never lose an eligible trial, so ``not_met`` is only given on
positive evidence (every arm above the thresholds, a low arm that is only an
active placebo, a "low-dose" that belongs to aspirin or CT); anything else that
is not clearly low is ``unclear``. All vocabularies and thresholds are
parameters, so another review can reuse the kind with another substance.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from classifiers.criteria.dose_units import (
    GRAM,
    MG,
    MG_PER_KG,
    MG_PER_L,
    RATE,
    DoseMention,
    Vocabulary,
    find_doses,
)
from classifiers.text import doc_for, is_abbreviation
from classifiers.types import CriterionResult, Evidence, Verdict

# --------------------------------------------------------------------------------------
# Parameters (flagship defaults; every one can be overridden in the protocol file).
# Vocabularies are lists of case-insensitive regular-expression fragments matched as
# whole words, all in one pass: where two terms overlap only the longer is seen, so
# marker phrases should not swallow substance names ("high-dose", not "high-dose
# psilocybin"). Terms that start with a literal word are matched fastest.
# --------------------------------------------------------------------------------------

DEFAULT_TERMS: dict[str, tuple[str, ...]] = {
    # The substance whose dose is judged, in the unit the thresholds are written in.
    "target_terms": (
        r"psilocybin",
        r"psilocibin[ae]?",
        r"4-phosphoryloxy-N,\s?N-dimethyltryptamine",
        r"O-phosphoryl-4-hydroxy-N,\s?N-dimethyltryptamine",
        r"4-PO-DMT",
    ),
    # Its active form, converted with ``converted_per_target`` (mg of it per mg of target).
    "converted_terms": (
        r"psilocine?",
        r"4-hydroxy-N,\s?N-dimethyltryptamine",
        r"4-HO-DMT",
    ),
    # Material containing it; gram amounts of material are judged by max_dried_g/max_fresh_g.
    "material_terms": (
        r"magic (?:mushrooms?|truffles?)",
        r"psilocybin(?:-containing)? (?:mushrooms?|truffles?)",
        r"psilocybe (?:mushrooms?|truffles?)",
        r"psychedelic (?:mushrooms?|truffles?)",
        r"hallucinogenic (?:mushrooms?|truffles?)",
        r"dried (?:mushrooms?|truffles?|material|fruiting bod(?:y|ies)|mushroom material)",
        r"fresh (?:mushrooms?|truffles?)",
        r"mushrooms?",
        r"truffles?",
        r"psilocybe(?: \w+)?",
        r"P\. cubensis",
        r"sclerotia",
        r"hongos psilocibios",
    ),
    # Other psychedelics and drugs that are microdosed: their doses never use our thresholds.
    "other_psychedelic_terms": (
        r"LSD",
        r"lysergic acid diethylamide",
        r"1P-LSD",
        r"1-propionyl-LSD",
        r"AL-LAD",
        r"ALD-52",
        r"DMT",
        r"N,\s?N-dimethyltryptamine",
        r"5-MeO-DMT",
        r"5-methoxy-N,\s?N-dimethyltryptamine",
        r"ayahuasca",
        r"mescaline",
        r"peyote",
        r"ketamine",
        r"esketamine",
        r"MDMA",
        r"3,4-methylenedioxymethamphetamine",
        r"THC",
        r"delta-9-tetrahydrocannabinol",
        r"tetrahydrocannabinol",
        r"cannabis",
        r"cannabidiol",
        r"ibogaine",
        r"noribogaine",
        r"muscimol",
        r"Amanita muscaria",
        r"A\. muscaria",
        r"4-AcO-DMT",
        r"4-acetoxy-N,\s?N-dimethyltryptamine",
        r"psilacetin",
        r"baeocystin",
        r"norbaeocystin",
        r"aeruginascin",
        r"deuterated psilocin(?: analogue| analog)?",
        r"2C-B",
        r"salvinorin A",
    ),
    # Words standing for "the psychedelic of this record" (resolved to its main substance).
    "generic_terms": (r"psychedelics?", r"hallucinogens?", r"entheogens?"),
    # Non-psychedelic drugs, comparators and "low-dose" keyword traps. The last fragment
    # recognises most other drug names by their INN stems.
    "other_drug_terms": (
        r"aspirin",
        r"acetylsalicylic acid",
        r"naltrexone",
        r"naloxone",
        r"colchicine",
        r"methotrexate",
        r"hydroxychloroquine",
        r"lithium",
        r"niacin",
        r"nicotinic acid",
        r"nicotine",
        r"varenicline",
        r"dextroamphetamine",
        r"amphetamine",
        r"methylphenidate",
        r"modafinil",
        r"diphenhydramine",
        r"midazolam",
        r"lorazepam",
        r"venlafaxine",
        r"escitalopram",
        r"bupropion",
        r"quetiapine",
        r"verapamil",
        r"silibinin",
        r"mannitol",
        r"caffeine",
        r"melatonin",
        r"volinanserin",
        r"ketanserin",
        r"lion's mane(?: mushrooms?)?",
        r"Hericium(?: erinaceus)?",
        r"button mushrooms?",
        r"Agaricus(?: bisporus)?",
        r"shiitake(?: mushrooms?)?",
        r"edible mushrooms?",
        r"Amanita phalloides",
        r"computed tomography",
        r"CT",
        r"LDCT",
        r"radiation",
        r"inducer",
    ),
    # A word right next to a dose that ends like a drug name (INN stems, plain suffixes,
    # not patterns) is taken as
    # another drug, so unlisted comparators ("hydroxychloroquine 400 mg") do not
    # lend their doses to the target substance.
    "drug_name_suffixes": (
        "azepam",
        "azolam",
        "oxetine",
        "etine",
        "triptyline",
        "apine",
        "idone",
        "profen",
        "cillin",
        "mycin",
        "sartan",
        "pril",
        "olol",
        "statin",
        "prazole",
        "tidine",
        "triptan",
        "gabalin",
        "pentin",
        "barbital",
        "setron",
        "floxacin",
        "parin",
        "semide",
        "thiazide",
        "quine",
        "amide",
        "azine",
        "oxine",
        "afine",
        "xine",
    ),
    # The authors call the dose a microdose (or equivalent): decisive when no number says otherwise.
    "strong_low_terms": (
        r"micro-?dos\w*",
        r"micro dos\w*",
        r"sub-?perceptual",
        r"sub-?hallucinogenic",
        r"sub-?psychedelic",
        r"sub-?threshold",
        r"non-?hallucinogenic doses?",
        r"one-?tenth of (?:a|the) (?:typical|usual|standard|recreational|ceremonial|full)"
        r"(?: \w+)? dose",
        r"a tenth of (?:a|the) (?:typical|usual|standard|recreational|ceremonial|full)"
        r"(?: \w+)? dose",
        r"1/10(?:th)? of (?:a|the) (?:typical|usual|standard|recreational|ceremonial|full)"
        r"(?: \w+)? dose",
        r"below the (?:\w+ )?threshold for (?:perceptual|psychedelic|subjective|behaviou?ral"
        r"|hallucinogen\w*)",
    ),
    # Relative naming: low only if the numbers agree.
    "weak_low_terms": (
        r"low(?:er)?[- ]doses?",
        r"very low[- ]doses?",
        r"ultra-?low[- ]doses?",
        r"low doses? of",
        r"small (?:doses|amounts)",
        r"very small (?:doses|amounts)",
        r"minimal dose",
    ),
    # Evidence that a dose had no psychedelic effect (animals: below the HTR threshold).
    "low_effect_terms": (
        r"no head[- ]twitch\w*",
        r"no wet[- ]dog shakes?",
        r"no (?:overt )?behaviou?ral signs?",
        r"did not (?:produce|induce|elicit|evoke|cause)\w* "
        r"(?:any |a )?(?:head[- ]twitch|wet[- ]dog|perceptual|psychedelic|behaviou?ral sign)\w*",
        r"does not (?:produce|induce|elicit|evoke|cause)\w* "
        r"(?:any |a )?(?:head[- ]twitch|wet[- ]dog|perceptual|psychedelic|behaviou?ral sign)\w*",
        r"neither \w+ produced head[- ]twitch\w*",
        r"below the (?:\w+ )?(?:head[- ]twitch|wet[- ]dog[- ]shake|HTR)\w*(?: response)? threshold",
        r"below the threshold for (?:the )?(?:head[- ]twitch|wet[- ]dog|HTR)\w*",
        r"no perceptual (?:changes|effects)",
        r"without (?:producing )?(?:perceptual|psychedelic) effects",
    ),
    # Evidence that the dose had full psychedelic effects.
    "high_effect_terms": (
        r"produced (?:a |robust |dose-dependent )?"
        r"(?:head[- ]twitch\w*|head shakes|wet[- ]dog shakes)",
        r"induced (?:a |robust |dose-dependent )?"
        r"(?:head[- ]twitch\w*|head shakes|wet[- ]dog shakes)",
        r"showed (?:a |robust |dose-dependent )?"
        r"(?:head[- ]twitch\w*|head shakes|wet[- ]dog shakes)",
        r"head[- ]twitch\w* (?:above|exceeding) vehicle",
        r"robust head[- ]twitch response",
        r"hallucinogen-like",
        r"intense (?:psychedelic|perceptual|visual|subjective) effects",
        r"fully?[- ]psychedelic",
        r"full(?: ceremonial)? dose",
        r"heroic doses?",
        r"high[- ]doses?",
        r"psychedelic doses?",
    ),
    # A dose arm that only serves as a placebo, control or blinding aid for another arm.
    "placebo_role_terms": (
        r"active placebo",
        r"placebo-like",
        r"control condition",
        r"comparison condition",
        r"comparator",
        r"very low dose comparator",
        r"active comparator",
        r"\(control\)",
        r"serv(?:ed|ing) as (?:a|the) control",
        r"used as (?:a|the) control",
        r"preserv\w* (?:the )?blind(?:ing|ness)",
        r"maintain\w* (?:the )?blind(?:ing|ness)",
        r"protect\w* (?:the )?blind(?:ing|ness)",
        r"support\w* (?:the )?blind(?:ing|ness)",
        r"make blinding",
        r"blinding aid",
        r"for blinding",
    ),
    # Sentences about other or earlier work: their high doses are not this study's.
    # (Only high doses are discounted there, never low ones: that can only move a
    # verdict away from not_met.)
    "background_terms": (
        r"previous(?:ly)?",
        r"prior (?:studies|trials|work|research)",
        r"earlier (?:studies|trials|work|research)",
        r"most (?:\w+ )?(?:studies|trials|research)",
        r"(?:has|have) (?:\w+ )?(?:been )?used",
        r"to date",
        r"in the literature",
        r"unlike",
    ),
    # A comparison condition (used to tell dose-ranging studies from active-placebo ones).
    "control_terms": (
        r"placebo",
        r"vehicle",
        r"saline",
        r"sham",
        r"wait-?list",
        r"inactive",
        r"inert",
        r"no active drug",
    ),
    "animal_terms": (
        r"mice",
        r"mouse",
        r"rats?",
        r"rodents?",
        r"zebrafish",
        r"Danio rerio",
        r"macaques?",
        r"monkeys?",
        r"marmosets?",
        r"primates?",
        r"animals?",
        r"C57BL/6J?",
        r"Sprague-Dawley",
        r"Wistar",
        r"Long-Evans",
    ),
    "human_terms": (
        r"participants?",
        r"patients?",
        r"volunteers?",
        r"adults",
        r"people",
        r"women",
        r"men",
        r"respondents",
        r"microdosers",
        r"users",
    ),
    # Gram amounts: fresh weights are judged by max_fresh_g, dried ones by max_dried_g.
    # Material sold fresh (truffles) counts as fresh unless the text says it was dried.
    "fresh_terms": (r"fresh",),
    "dried_terms": (r"dried", r"dry", r"dehydrated"),
    "fresh_material_terms": (r"truffles?",),
}

DEFAULT_NUMBERS: dict[str, float | None] = {
    "max_mg": 5.0,  # psilocybin per person (mg/70 kg counts as per person)
    "max_mg_per_kg": 0.07,  # 50 µg/kg is 3.5 mg per 70 kg
    "max_dried_g": 0.5,  # dried mushrooms or truffles
    "max_fresh_g": 1.5,  # fresh truffles: most of their weight is water
    "max_mg_per_l": None,  # bath concentrations: no threshold; the authors' framing decides
    "converted_per_target": 0.72,  # mg psilocin per mg psilocybin
    "animal_high_mg_per_kg": 0.5,  # animal groups at or above this are not low without evidence
    "about_margin": 0.25,  # "about 5 mg": up to 25% above a limit is borderline, never not_met
    "active_placebo_max_fraction": 0.2,  # a lone low arm <= 1 mg beside a high arm looks like one
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
_TARGET_FAMILY = (TARGET, CONVERTED, MATERIAL)
_PSYCHEDELIC = (TARGET, CONVERTED, MATERIAL, OTHER, GENERIC)
_CATEGORY_PARAM = {
    TARGET: "target_terms",
    CONVERTED: "converted_terms",
    MATERIAL: "material_terms",
    OTHER: "other_psychedelic_terms",
    GENERIC: "generic_terms",
    DRUG: "other_drug_terms",
}

_PARAM_CATEGORY = {param: category for category, param in _CATEGORY_PARAM.items()}
# Vocabularies read around gram doses only, not in the one-pass scan.
_WEIGHT_PARAMS = ("fresh_terms", "dried_terms", "fresh_material_terms")
_SCANNED_PARAMS = tuple(
    k for k in _TERM_PARAMS if k != "drug_name_suffixes" and k not in _WEIGHT_PARAMS
)
_MARKER_PARAMS = tuple(k for k in _SCANNED_PARAMS if k not in _PARAM_CATEGORY)
# Words ending like drug names that are nevertheless psychedelics.
_KNOWN = ("tryptamine", "psilocin", "psilocine", "mescaline", "ketamine", "ibogaine")

LOW, BORDERLINE, HIGH, ANIMAL_ABOVE, UNKNOWN = (
    "low",
    "borderline",
    "high",
    "animal_above",
    "unknown",
)

# Words between a dose and a substance (or a role phrase) that point to a different arm.
_ARM_BREAK = re.compile(r"\b(?:or|versus|vs\.?|against|compared with|than|whereas|while)\b|;")
_OF_LINK = re.compile(r"^\s*(?:of|of the|of an?)\b")
_LINK_MAX_GAP = 120
_ROLE_MAX_GAP = 60
_BREAK_PENALTY = 25
_GENERIC_PENALTY = 30


# --------------------------------------------------------------------------------------
# Parameter validation
# --------------------------------------------------------------------------------------


def _validated(params: Mapping[str, Any]) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------
# Reading a record
# --------------------------------------------------------------------------------------


class Mention(NamedTuple):
    """A substance named in the text (tuples: dozens are made per record)."""

    field: str
    start: int
    end: int
    category: str


class Marker(NamedTuple):
    """A vocabulary phrase (microdose, active placebo, head twitches...) in the text."""

    field: str
    start: int
    end: int

    def evidence(self, texts: Mapping[str, str]) -> Evidence:
        return Evidence(self.field, self.start, self.end, texts[self.field][self.start : self.end])


@dataclass(slots=True)
class Arm:
    """A dose mention linked to its substance, with each value judged against the thresholds."""

    dose: DoseMention
    sentence: int
    substance: str | None  # a mention category, or None when nothing psychedelic is near
    classes: tuple[str, ...] = ()
    equivalents: tuple[float, ...] = ()  # values on the threshold's scale
    role: bool = False  # serves only as active placebo / control for another arm
    fresh: bool = False  # a fresh (not dried) weight of material

    @property
    def is_target(self) -> bool:
        return self.substance in _TARGET_FAMILY

    def evidence(self) -> Evidence:
        d = self.dose
        return Evidence(d.field, d.start, d.end, d.text)


@dataclass(slots=True)
class Facts:
    texts: dict[str, str]
    sentences: _Sentences
    arms: list[Arm]
    mentions: list[Mention]
    markers: dict[str, list[Marker]]
    animal: bool
    psychedelic_present: bool

    def weak_low(self) -> tuple[list[Marker], list[Marker]]:
        """ "low-dose" phrases about a psychedelic, and keyword traps (aspirin, CT)."""
        about_psychedelic: list[Marker] = []
        about_drug: list[Marker] = []
        for marker in self.markers["weak_low_terms"]:
            following = [
                m
                for m in self.mentions
                if m.field == marker.field and marker.end <= m.start <= marker.end + 30
            ]
            first = min(following, key=lambda m: m.start) if following else None
            if first is not None and first.category == DRUG:
                about_drug.append(marker)
            else:
                about_psychedelic.append(marker)
        return about_psychedelic, about_drug


class _Sentences:
    """Maps (field, offset) to a global sentence number across title and abstract.

    Boundaries follow ``classifiers.text.sentence_spans`` (". " before a capital,
    digit, quote or bracket, not after an abbreviation; line breaks), found with
    ``str.find`` because the regular-expression split cost more than the rest of
    the criterion.
    """

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._starts: dict[str, tuple[list[int], int]] = {}
        count = 0
        for name, text in texts.items():
            starts = _sentence_starts(text)
            self._starts[name] = (starts, count)
            count += len(starts)

    def index(self, field_name: str, pos: int) -> int:
        starts, first = self._starts[field_name]
        return first + max(bisect_right(starts, pos) - 1, 0)

    def bounds(self, field_name: str, pos: int) -> tuple[int, int]:
        """[start, end) of the sentence containing ``pos`` (end is the next sentence's start)."""
        starts = self._starts[field_name][0]
        i = bisect_right(starts, pos)
        return starts[i - 1] if i else 0, starts[i] if i < len(starts) else 1 << 30

    def same(self, a: Mention | Marker | DoseMention, b: Mention | Marker | DoseMention) -> bool:
        """Whether two located items are in the same sentence of the same field."""
        if a.field != b.field:
            return False
        starts = self._starts[a.field][0]
        return bisect_right(starts, a.start) == bisect_right(starts, b.start)


# Literal-first patterns, so the engine can use its fast literal search.
_FULL_STOP = re.compile(r"\. +(?=[\"'(\[A-Z0-9])")
_OTHER_STOP = re.compile(r"[?!] +(?=[\"'(\[A-Z0-9])")
_LINE_BREAK = re.compile(r"\n\s*")


def _sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (the first is always 0)."""
    cuts = [m.end() for m in _FULL_STOP.finditer(text) if not is_abbreviation(text, m.start())]
    if "?" in text or "!" in text:
        cuts.extend(m.end() for m in _OTHER_STOP.finditer(text))
    if "\n" in text:
        cuts.extend(m.end() for m in _LINE_BREAK.finditer(text))
    cuts.sort()
    return [0, *cuts]


class DoseCriterion:
    """Judges whether the record studies a low dose of the protocol's target substance."""

    kind = "dose"

    def __init__(self, name: str = "low_dose", **params: Any) -> None:
        self.name = name
        self.params = _validated(params)
        self._vocabulary = Vocabulary({k: self.params[k] for k in _SCANNED_PARAMS})
        self._weight_words = {k: _compile_words(self.params[k]) for k in _WEIGHT_PARAMS}
        self._drug_suffixes = tuple(s.lower() for s in self.params["drug_name_suffixes"])

    def evaluate(self, record: Mapping[str, Any]) -> CriterionResult:
        facts = self._read(record)
        return _decide(facts, self.params)

    # -- reading ---------------------------------------------------------------------

    def _read(self, record: Mapping[str, Any]) -> Facts:
        doc = doc_for(record)
        texts = dict(doc.texts)
        low = doc.low
        sentences = _Sentences(texts)
        mentions: list[Mention] = []
        markers: dict[str, list[Marker]] = {k: [] for k in _MARKER_PARAMS}
        for name, text in texts.items():
            for key, start, end in self._vocabulary.scan(text, low[name]):
                category = _PARAM_CATEGORY.get(key)
                if category is None:
                    markers[key].append(Marker(name, start, end))
                else:
                    mentions.append(Mention(name, start, end, category))
        animal = len(markers["animal_terms"]) > len(markers["human_terms"])
        main = _main_substance(mentions)
        arms = [
            Arm(dose, sentences.index(dose.field, dose.start), None)
            for name, text in texts.items()
            for dose in find_doses(text, name)
        ]
        # each field's mentions in text order (one scan per field), so a sentence's are a slice
        by_field: dict[str, tuple[list[int], list[Mention]]] = {}
        for m in mentions if arms else ():
            entry = by_field.get(m.field)
            if entry is None:
                entry = by_field[m.field] = ([], [])
            entry[0].append(m.start)
            entry[1].append(m)
        for arm in arms:
            field_name = arm.dose.field
            lo, hi = sentences.bounds(field_name, arm.dose.start)
            starts, field_mentions = by_field.get(field_name) or ([], [])
            in_sentence = field_mentions[bisect_left(starts, lo) : bisect_left(starts, hi)]
            linked = _link(arm, in_sentence, texts, main)
            arm.substance = self._unless_next_to_drug(arm, texts, linked)
        self._classify_arms(arms, texts, animal)
        roles, blockers = markers["placebo_role_terms"], markers["control_terms"]
        _mark_placebo_roles(arms, roles, blockers, mentions, texts, sentences)
        facts = Facts(
            texts=texts,
            sentences=sentences,
            arms=arms,
            mentions=mentions,
            markers=markers,
            animal=animal,
            psychedelic_present=any(m.category in _PSYCHEDELIC for m in mentions),
        )
        return facts

    def _unless_next_to_drug(
        self, arm: Arm, texts: Mapping[str, str], linked: str | None
    ) -> str | None:
        """An unlisted drug written right before the dose ("hydroxychloroquine 400 mg") owns it."""
        text = texts[arm.dose.field]
        before = text[max(0, arm.dose.start - 30) : arm.dose.start].rstrip(" (")
        word = before.rsplit(None, 1)[-1] if before.strip() else ""
        word = word.lower()
        if word.endswith(self._drug_suffixes) and word.isalpha() and not word.endswith(_KNOWN):
            return DRUG
        return linked

    def _classify_arms(self, arms: list[Arm], texts: Mapping[str, str], animal: bool) -> None:
        rate_sentences = {a.sentence for a in arms if a.dose.unit == RATE}
        for arm in arms:
            if not arm.is_target:
                continue
            if arm.sentence in rate_sentences:  # part of an infusion regimen
                arm.classes = tuple(UNKNOWN for _ in arm.dose.values)
                arm.equivalents = arm.dose.values
                continue
            arm.fresh = arm.dose.unit == GRAM and self._is_fresh_weight(arm.dose, texts)
            judged = [
                _judge(v, arm.dose.unit, arm.substance, animal, arm.fresh, self.params)
                for v in arm.dose.values
            ]
            arm.classes = tuple(c for c, _ in judged)
            arm.equivalents = tuple(e for _, e in judged)

    def _is_fresh_weight(self, dose: DoseMention, texts: Mapping[str, str]) -> bool:
        text = texts[dose.field]
        window = text[max(0, dose.start - 30) : dose.end + 40]
        words = self._weight_words
        if words["fresh_terms"].search(window):
            return True
        if words["dried_terms"].search(window):
            return False
        return words["fresh_material_terms"].search(window) is not None


def _main_substance(mentions: Sequence[Mention]) -> str | None:
    """The record's psychedelic: where a dose names none, it is this one's dose."""
    target = sum(1 for m in mentions if m.category in _TARGET_FAMILY)
    other = sum(1 for m in mentions if m.category == OTHER)
    if target and target >= other:
        pure = sum(1 for m in mentions if m.category in (TARGET, CONVERTED))
        return TARGET if pure or not target else MATERIAL
    if other:
        return OTHER
    if any(m.category == GENERIC for m in mentions):
        return GENERIC
    return None


def _link(
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
                score -= 5
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


def _compile_words(terms: Sequence[str]) -> re.Pattern[str]:
    body = "|".join(f"(?:{t})" for t in terms) or "(?!x)x"
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.IGNORECASE)


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


def _mark_placebo_roles(
    arms: list[Arm],
    roles: Sequence[Marker],
    blockers: Sequence[Marker],
    mentions: Sequence[Mention],
    texts: Mapping[str, str],
    sentences: _Sentences,
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
    for role in roles:
        found = _nearest_arm(role, arms, blockers, mentions, texts, sentences)
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
    arms: Sequence[Arm],
    blockers: Sequence[Marker],
    mentions: Sequence[Mention],
    texts: Mapping[str, str],
    sentences: _Sentences,
) -> tuple[Arm, int] | None:
    """The dose a role phrase describes, with the number of characters between them."""
    text = texts[role.field]
    best: tuple[int, Arm] | None = None
    for arm in arms:
        d = arm.dose
        if not sentences.same(d, role):
            continue
        lo, hi = (d.end, role.start) if d.end <= role.start else (role.end, d.start)
        if hi < lo:
            continue
        between = text[lo:hi]
        if len(between) > _ROLE_MAX_GAP or _ARM_BREAK.search(between):
            continue
        if any(
            m.field == role.field and lo <= m.start and m.end <= hi and m.category == DRUG
            for m in mentions
        ) or any(b.field == role.field and lo <= b.start and b.end <= hi for b in blockers):
            continue
        if best is None or len(between) < best[0]:
            best = (len(between), arm)
    return (best[1], best[0]) if best else None


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


def _collect(arms: Sequence[Arm], background: Sequence[Marker], sentences: _Sentences) -> _Values:
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
                if not any(sentences.same(m, arm.dose) for m in background):
                    high.append((arm, eq))
            elif cls == ANIMAL_ABOVE:
                animal_above.append((arm, eq))
            elif cls == BORDERLINE:
                borderline.append((arm, eq))
    return _Values(low, high, animal_above, role, borderline)


def _decide(facts: Facts, p: Mapping[str, Any]) -> CriterionResult:
    values = _collect(facts.arms, facts.markers["background_terms"], facts.sentences)
    strong = facts.markers["strong_low_terms"]
    if values.role and not values.high:  # a placebo role needs a high arm to serve
        values = _Values(
            values.low + values.role, values.high, values.animal_above, [], values.borderline
        )
    if values.low:
        return _decide_with_low_arm(facts, values, p)
    if values.role:
        return _active_placebo(facts, values)
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
    limit = _limit_text(arm, p)
    return _result("met", confidence, evidence, f"{_fmt(eq, arm)} {_name(arm, p)} arm ≤ {limit}")


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


def _active_placebo(facts: Facts, values: _Values) -> CriterionResult:
    role_arm, role_eq = values.role[0]
    roles = [
        m for m in facts.markers["placebo_role_terms"] if facts.sentences.same(m, role_arm.dose)
    ] or facts.markers["placebo_role_terms"]
    high_arm, high_eq = max(values.high, key=lambda ae: ae[1])
    evidence = [role_arm.evidence(), *_marker_evidence(facts, roles, limit=1), high_arm.evidence()]
    versus = _fmt(high_eq, high_arm)
    reason = f"{_fmt(role_eq, role_arm)} arm is an active placebo for {versus}"
    return _result("not_met", 0.85, evidence, reason)


def _borderline(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    arm, eq = min(values.borderline, key=lambda ae: ae[1])
    strong = facts.markers["strong_low_terms"]
    text = f"{_fmt(eq, arm)} {_name(arm, p)} is about the limit of {_limit_text(arm, p)}"
    if strong:
        evidence = [arm.evidence(), *_marker_evidence(facts, strong, limit=1)]
        return _result("met", 0.7, evidence, text + " and called a microdose")
    return _result("unclear", 0.5, [arm.evidence()], text)


def _all_high(facts: Facts, values: _Values, p: Mapping[str, Any]) -> CriterionResult:
    arm, eq = min(values.high, key=lambda ae: ae[1])
    limit = _limit_text(arm, p)
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


def _limit_text(arm: Arm, p: Mapping[str, Any]) -> str:
    unit = arm.dose.unit
    if unit == MG_PER_KG:
        return f"{p['max_mg_per_kg']:g} mg/kg"
    if unit == GRAM:
        return f"{p['max_fresh_g']:g} g fresh" if arm.fresh else f"{p['max_dried_g']:g} g dried"
    if unit == MG_PER_L and p["max_mg_per_l"] is not None:
        return f"{p['max_mg_per_l']:g} mg/L"
    return f"{p['max_mg']:g} mg"


__all__ = ["DEFAULT_NUMBERS", "DEFAULT_TERMS", "DoseCriterion"]
