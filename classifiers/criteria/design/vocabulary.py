"""The words the ``design`` kind reads, grouped by the design fact each one states.

Why grouped by fact rather than by strength alone: the judgement weighs *what the
text says about the design* (an assigned comparison, a self-selected one, one group
followed over time, an uncontrolled design named outright), so each list below names
one such fact. Every list is a default that a protocol may override by its key.
"""

from __future__ import annotations

# An assigned comparison condition: placebo, vehicle, sham, waitlist, comparator ...
CONTROL_TERMS: tuple[str, ...] = (
    r"placebos?",
    r"(placebo|vehicle|saline|sham)-(controlled|treated)",
    r"vehicles?",
    r"saline",
    r"sham( dosing| condition| capsules?| control| group| arm| procedure)?",
    r"wait-?list(ed)?[- ](controlled|control|group|arm|condition|comparison|study|design)",
    r"(to|versus|vs\.?|or) (a |the )?wait-?list",
    r"waiting (list |period )?(control|group|arm)",
    r"waiting period",
    r"delayed[- ]start",
    r"active (comparator|placebo|control)s?",
    r"double-dummy",
    r"(comparison|control) (group|arm|condition|participants|animals|cohort|sessions?|doses?)s?",
    r"non-?(micro)?dos(ing|ers?)( comparison| control)?",
    r"non-?users?",
    r"(identical|matching|matched|visually identical|identical-looking|identical-tasting)"
    r"[\w -]{0,25}(capsules?|tablets?|powder|preparation|vehicle|placebo|lookalike)",
    r"inactive (capsules?|preparation|blocks?|pills?|condition)",
    r"inert (filler|lookalike|capsules?|preparation|placebo|powder)",
    r"no active (drug|substance|ingredient)",
    r"empty capsules",
    r"(edible|button|shiitake|culinary) mushroom",
    r"self-blind\w*",
    r"n-of-1",
    r"blind(ed)? to (condition|allocation|treatment|group)",
    r"unaware of (the )?(allocation|treatment|condition|contents|sequence)",
    r"(randomi[sz]ed |placebo |vehicle )?controlled (trial|study|design|experiment|comparison)s?",
    # an experimental comparison with animals or subjects kept on the standard condition
    r"compared (them |these |those )?with [\w -]{0,30}(on|given|fed|receiving) (standard|normal|"
    r"regular|control|plain|untreated)",
    r"(untreated|drug-naive|unexposed) (animals|controls|mice|rats|larvae|flies)",
)
# Randomisation and blinding: a comparison is likely, but its condition is not named.
WEAK_CONTROL_TERMS: tuple[str, ...] = (
    r"randomi[sz]\w*",
    r"randomly (assigned|allocated)",
    r"(double|single|triple)-blind\w*",
    r"cross-?over",
    r"counterbalanced",
    r"latin-square",
    r"(balanced|random) (order|sequence)",
    r"between-group",
    r"parallel-group",
    r"(two|three|four|five|multi)-arm",
    r"factorial",
    r"within-subjects?( and between-subjects?)? (design|comparison|evaluation)s?",
    r"between-subjects? (design|comparison|evaluation)s?",
)
# A comparison whose groups chose themselves (users and non-users, dosing and
# non-dosing days): not an assigned condition. Checked against every control hit.
SELF_SELECTED_TERMS: tuple[str, ...] = (
    r"non-?(micro)?dos(ing|ers?)",
    r"non-?us(ers?|ing)",
    r"(people|participants|individuals|respondents|adults) who (did|do) not (microdose|use)",
)
# Methods that are a whole design on their own (a survey, an interview study), but only
# measures inside a trial that assigned its participants (``ALLOCATION_TERMS``).
METHOD_TERMS: tuple[str, ...] = (
    r"qualitative(?! (data|measures?|outcomes?|feedback|comments|responses|and quantitative))",
    r"(semi-structured )?interviews?",
    r"focus groups?",
    r"thematic analysis",
    r"surveys?",
    r"surveyed",
)
ALLOCATION_TERMS: tuple[str, ...] = (
    r"randomi[sz]ed (to|into|between)",
    r"randomly (assigned|allocated)",
    r"(were|was) (allocated|assigned) to",
)
# Said outright: the design has no comparison condition.
UNCONTROLLED_TERMS: tuple[str, ...] = (
    r"uncontrolled",
    r"single-?(arm|group|cohort)",
    r"single (arm|group|cohort)",
    r"one-arm",
    r"case (report|series)",
    r"phenomenolog\w*",
    r"cross-sectional",
    r"observational (study|design|cohort|data|research)",
    r"crowd-?sourced",
    r"chart review",
    r"(normative|reference) data",
    r"(published|population) norms",
    r"(own|their|its) (baseline|control|reference)",
    r"served as (its|their|his|her) own",
    r"all (participants|patients|subjects|clients) (knew|were aware)",
    r"all (participants|patients|subjects|animals) received (the )?active",
    r"(everyone|everybody|all (participants|subjects|students|volunteers)) "
    r"(took|received|was given|were given) (a |the )?placebo",
    r"ecological study",
    r"diagnostic accuracy",
    r"subreddits?",
    r"r/(microdosing|psychedelics|psilocybin\w*|shrooms|lsd|drugs)",
    r"online (community|communities|forums?|posts?|discussions?)",
    r"forum (posts?|threads?|text)",
    r"(content|discourse|text|sentiment|narrative|topic) analys[ie]s",
    r"text-analytic",
    r"text-mining",
)
# One condition for everyone: a single arm or cohort, or all given the same thing.
SINGLE_CONDITION_TERMS: tuple[str, ...] = (
    r"single-?(arm|group|cohort)",
    r"single (arm|group|cohort)",
    r"one-arm",
    r"(everyone|everybody|all (participants|subjects|students|volunteers)) "
    r"(took|received|was given|were given) (a |the )?placebo",
)
# Nothing is given to anyone: analytical chemistry of the substance or its products.
CHEMISTRY_TERMS: tuple[str, ...] = (
    r"(mass|tandem mass) spectrometry",
    r"chromatography",
    r"(lc|gc|hplc|uplc)-\w+",
    r"(potency|stability|content|extraction|quantitative analysis|quantification) of",
    r"(alkaloid|tryptamine|analyte|psilocybin|psilocin) (content|concentrations?) in",
    r"seized",
    r"strains",
    r"biomass",
    r"consumer products",
    r"biosynthe\w*",
    r"heterologous",
    r"gene cluster",
)
# Someone or some animal was given something, or was studied: not chemistry alone.
SUBJECT_TERMS: tuple[str, ...] = (
    r"participants?",
    r"patients?",
    r"volunteers?",
    r"subjects?",
    r"(mice|mouse|rats?|animals?|pigs?|larvae|larva|flies|fly|pigeons?|monkeys?|zebrafish)",
    r"(worms?|nematodes?|dogs?|cats?|humans?|people|men|women|adults|children)",
    r"administ\w+",
    r"injected|injections?",
    r"dosed",
)
# Leaning against: open-label, self-tracking, one group measured before and after.
WEAK_UNCONTROLLED_TERMS: tuple[str, ...] = (
    r"open-label",
    r"open (study|trial|design|pilot)",
    r"unblinded",
    r"pre-?post",
    r"ecological momentary assessment",
    r"self-tracking",
    r"self-selected",
    r"naturalistic",
    r"no (placebo|control) (condition|group) was used",
    r"extension (phase|study|period)",
)
# One group measured over time: against, but only where nothing suggests a comparison
# (a randomised trial also reports change from baseline).
OVER_TIME_TERMS: tuple[str, ...] = (
    r"before and after",
    r"(from|compared with|compared to|relative to|than( at)?) (their )?baseline",
)
# What a review discusses besides controlled work: its evidence is mixed, so the
# review's design label is ``unclear`` rather than ``met``.
MIXED_EVIDENCE_TERMS: tuple[str, ...] = (
    r"self-report\w*",
    r"surveys?",
    r"qualitative",
    r"citizen[- ]science",
    r"anecdot\w*",
    r"naturalistic",
    r"observational",
)
# A review whose evidence is trials: "a meta-analysis of randomized trials".
REVIEWED_TRIALS_TERMS: tuple[str, ...] = (
    r"(randomi[sz]ed|controlled|placebo-controlled) (controlled )?(clinical )?trials",
    r"trials comparing",
)
# A control cue inside these belongs to another trial (the parent of an extension) or is
# no design at all ("controlled for age").
IGNORE_TERMS: tuple[str, ...] = (
    r"(poorly|well|adequately|un) controlled",
    r"controlled (for|conditions)",
    # the placebo effect itself, not a placebo condition
    r"(an |the )?effective placebo",
    r"placebo (effects?|components?|explanations?)",
    r"placebo and expectations?",
    r"extension (phase |study |period )?of (a|an|the) [\w ,-]{0,40}",
)
NEGATION_BEFORE = (
    r"(?<![\w])(no|without|absence of|lack(ed|s|ing)?( of)?|outside"
    r"|not (include|have|use|receive)\w*|neither|nor|instead of)( an?| any| the)?"
    r"( (matched|concurrent|separate|external|untreated))?\W{0,3}$"
)
# A negated cue names a whole comparison arm (strong) rather than only a placebo.
ARM_WORDS = r"(group|arm|condition|comparison|control|participants|animals|treated)"
