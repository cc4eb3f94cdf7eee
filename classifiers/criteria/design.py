"""The ``design`` kind: does the study have a comparison condition?

Cues are weighed by where they occur. Cues in the title and in sentences about the
record's own study count; cues in background sentences ("Previous placebo-controlled
studies ..."), about future work ("placebo-controlled trials are needed") or negated
("No placebo group was included", "in the absence of a control condition") do not,
and a negated comparison counts *against*.

* strong for: placebo, vehicle, saline, sham, waitlist arm, active comparator/placebo,
  named comparator drugs, self-blinding, identical inactive capsules, blinding to
  condition, a concurrent comparison group;
* weak for: randomised, double-blind, crossover, counterbalanced;
* strong against: uncontrolled, single-arm/single-group, case report/series,
  qualitative/interviews, surveys, own-baseline or normative comparisons, negated
  comparisons;
* weak against: open-label, EMA/self-tracking of dosing versus non-dosing days.

Reviews and opinion pieces are judged on the evidence they discuss (background
included): ``met`` if they concern controlled studies, ``not_met`` if they concern
only uncontrolled work, otherwise ``unclear``.
"""

from __future__ import annotations

import re
from typing import Any

from classifiers.criteria import Params
from classifiers.criteria.publication_type import PublicationTypeCriterion
from classifiers.text import BACKGROUND_CUES, FUTURE_CUES, Doc, Hit, doc_for, evidence_list
from classifiers.types import CriterionResult

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
    r"(comparison|control) (group|arm|condition|participants|animals|cohort|sessions?)s?",
    r"non-?(micro)?dos(ing|ers?)( comparison| control)?",
    r"non-users?",
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
)
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
)
UNCONTROLLED_TERMS: tuple[str, ...] = (
    r"uncontrolled",
    r"single-?(arm|group)",
    r"one-arm",
    r"case (report|series)",
    r"qualitative",
    r"(semi-structured )?interviews?",
    r"focus groups?",
    r"thematic analysis",
    r"surveys?",
    r"surveyed",
    r"cross-sectional",
    r"chart review",
    r"(normative|reference) data",
    r"(published|population) norms",
    r"(own|their|its) (baseline|control|reference)",
    r"served as (its|their|his|her) own",
    r"all (participants|patients|subjects|clients) (knew|were aware)",
    r"all (participants|patients|subjects|animals) received (the )?active",
    r"ecological study",
    r"diagnostic accuracy",
)
WEAK_UNCONTROLLED_TERMS: tuple[str, ...] = (
    r"open-label",
    r"open (study|trial|design|pilot)",
    r"unblinded",
    r"pre-?post",
    r"ecological momentary assessment",
    r"self-tracking",
    r"self-selected",
    r"no (placebo|control) (condition|group) was used",
)
NEGATION_BEFORE = (
    r"(?<![\w])(no|without|absence of|lack(ed|s|ing)?( of)?"
    r"|not (include|have|use|receive)\w*|neither|nor|instead of)( an?| any| the)?"
    r"( (matched|concurrent|separate|external|untreated))?\W{0,3}$"
)
# A negated cue names a whole comparison arm (strong) rather than only a placebo.
ARM_WORDS = r"(group|arm|condition|comparison|control|participants|animals|treated)"


class DesignCriterion:
    """Is there a comparison condition (placebo, vehicle, sham, waitlist, comparator)?"""

    kind = "design"

    def __init__(self, name: str = "controlled", **params: Any) -> None:
        p = Params(name, self.kind, params)
        self.name = name
        self._control = p.terms("control_terms", CONTROL_TERMS, extend_key="extra_control_terms")
        self._comparators = p.terms("comparators")
        self._weak_control = p.terms("weak_control_terms", WEAK_CONTROL_TERMS)
        self._uncontrolled = p.terms(
            "uncontrolled_terms", UNCONTROLLED_TERMS, extend_key="extra_uncontrolled_terms"
        )
        self._weak_uncontrolled = p.terms("weak_uncontrolled_terms", WEAK_UNCONTROLLED_TERMS)
        self._background = p.terms("background_cues", BACKGROUND_CUES)
        self._future = p.terms("future_cues", FUTURE_CUES)
        self._ignore = p.terms(
            "ignore_terms",
            [r"(poorly|well|adequately|un) controlled", r"controlled (for|conditions)"],
        )
        self._negation = re.compile(NEGATION_BEFORE, re.IGNORECASE)
        self._arm = re.compile(ARM_WORDS, re.IGNORECASE)
        self._secondary = PublicationTypeCriterion(name=f"{name}:publication_type")
        p.finish()

    def _drop_ignored(self, doc: Doc, hits: list[Hit]) -> list[Hit]:
        ignored = doc.find(self._ignore)
        if not ignored:
            return hits
        return [
            h
            for h in hits
            if not any(i.field == h.field and i.start <= h.start < i.end + 1 for i in ignored)
            and not any(i.field == h.field and h.start <= i.start < h.end for i in ignored)
        ]

    def evaluate(self, record: dict[str, Any]) -> CriterionResult:  # noqa: C901 - a rule list
        doc = doc_for(record)
        if not doc.texts:
            return CriterionResult("unclear", 0.5, [], "no title or abstract")
        secondary = self._secondary.secondary(record, doc)
        control = self._drop_ignored(doc, doc.find(self._control) + doc.find(self._comparators))
        weak_control = doc.find(self._weak_control)
        uncontrolled = self._drop_ignored(doc, doc.find(self._uncontrolled))
        weak_uncontrolled = doc.find(self._weak_uncontrolled)
        excluded: dict[int, bool] = {}

        def elsewhere(sentence: int) -> bool:
            """The sentence is about other, earlier or future work (not in the title)."""
            if sentence not in excluded:
                sent = doc.sentences[sentence]
                excluded[sentence] = sent.field != "title" and (
                    doc.search(self._future, sentence)
                    or (
                        not secondary
                        and (sent.section == "background" or doc.search(self._background, sentence))
                    )
                )
            return excluded[sentence]

        def own(hits: list[Hit]) -> list[Hit]:
            return [h for h in hits if not elsewhere(h.sentence)]

        control = own(control)
        weak_control = own(weak_control)
        uncontrolled = own(uncontrolled)
        weak_uncontrolled = own(weak_uncontrolled)

        strong_for: list[Hit] = []
        for h in control:
            if self._negation.search(doc.before(h, 40)):
                matched = doc.texts[h.field][h.start : h.end] + doc.after(h, 15)
                (uncontrolled if self._arm.search(matched) else weak_uncontrolled).append(h)
            else:
                strong_for.append(h)
        weak_for = [h for h in weak_control if not self._negation.search(doc.before(h, 25))]
        # "open-label" in the title names the design of the whole study: strong against,
        # unless the title itself also names a comparison or randomisation.
        title_for = [h for h in strong_for + weak_for if doc.sentences[h.sentence].field == "title"]
        title_open = [
            h
            for h in weak_uncontrolled
            if doc.sentences[h.sentence].field == "title" and not title_for
        ]
        uncontrolled += title_open
        weak_uncontrolled = [h for h in weak_uncontrolled if h not in title_open]
        title_against = [h for h in uncontrolled if doc.sentences[h.sentence].field == "title"]

        if secondary:
            if strong_for:
                return CriterionResult(
                    "met",
                    0.75,
                    evidence_list(doc, strong_for),
                    "discusses controlled studies",
                )
            negated_arms = [
                h for h in uncontrolled if self._control.match(doc.low[h.field], h.start)
            ]
            uncontrolled_words = [
                h for h in uncontrolled if "ncontrolled" in doc.texts[h.field][h.start : h.end]
            ]
            if negated_arms or uncontrolled_words:
                return CriterionResult(
                    "not_met",
                    0.75,
                    evidence_list(doc, negated_arms + uncontrolled_words),
                    "discusses only uncontrolled work",
                )
            return CriterionResult(
                "unclear",
                0.5,
                evidence_list(doc, uncontrolled + weak_for),
                "a review or opinion piece that does not say which designs it concerns",
            )

        if uncontrolled:
            if len(strong_for) > len(uncontrolled) and not title_against:
                return CriterionResult(
                    "met",
                    0.6,
                    evidence_list(doc, strong_for),
                    "a comparison condition, despite some uncontrolled wording",
                )
            return CriterionResult(
                "not_met",
                0.9 if not strong_for else 0.75,
                evidence_list(doc, title_against + uncontrolled),
                "no comparison condition (uncontrolled design)",
            )
        if strong_for:
            return CriterionResult(
                "met", 0.92, evidence_list(doc, strong_for), "has a comparison condition"
            )
        if weak_for and not weak_uncontrolled:
            conf = 0.8 if len({h.sentence for h in weak_for}) >= 2 or len(weak_for) >= 2 else 0.65
            return CriterionResult(
                "met", conf, evidence_list(doc, weak_for), "randomised or blinded comparison"
            )
        if weak_uncontrolled:
            return CriterionResult(
                "not_met",
                0.75,
                evidence_list(doc, weak_uncontrolled),
                "open-label or self-tracked design without a comparison condition",
            )
        if not doc.has_abstract:
            return CriterionResult("unclear", 0.5, [], "title only; the design is not stated")
        return CriterionResult(
            "not_met",
            0.6,
            evidence_list(doc, [s for s in doc.sentences if s.field == "title"]),
            "no comparison condition is described",
        )


__all__ = ["DesignCriterion"]
