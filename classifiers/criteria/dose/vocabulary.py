"""The dose criterion's default vocabularies (flagship review); all overridable in a protocol.

Kept in a module of their own because they are data, not logic: a reader looking for
how a dose is judged should not have to scroll past three hundred lines of words.
"""

from __future__ import annotations

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
    # Routes the per-person thresholds (oral doses) do not hold for: an intravenous
    # 2 mg of psilocybin is a full psychedelic dose. Doses in such a sentence are not
    # compared with the thresholds (the record's words decide, or a human).
    "unscaled_route_terms": (
        r"intravenous(?:ly)?",
        r"i\.v\.",
        r"intravenous infusions?",
    ),
    # Gram amounts: fresh weights are judged by max_fresh_g, dried ones by max_dried_g.
    # Material sold fresh (truffles) counts as fresh unless the text says it was dried.
    "fresh_terms": (r"fresh",),
    "dried_terms": (r"dried", r"dry", r"dehydrated"),
    "fresh_material_terms": (r"truffles?",),
}
