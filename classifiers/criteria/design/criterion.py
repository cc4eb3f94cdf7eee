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
from dataclasses import dataclass, field
from typing import Any

from classifiers.criteria import Params
from classifiers.criteria.design.vocabulary import (
    ALLOCATION_TERMS,
    ARM_WORDS,
    CHEMISTRY_TERMS,
    CONTROL_TERMS,
    IGNORE_TERMS,
    METHOD_TERMS,
    MIXED_EVIDENCE_TERMS,
    NEGATION_BEFORE,
    OVER_TIME_TERMS,
    REVIEWED_TRIALS_TERMS,
    SELF_SELECTED_TERMS,
    SINGLE_CONDITION_TERMS,
    SUBJECT_TERMS,
    UNCONTROLLED_TERMS,
    WEAK_CONTROL_TERMS,
    WEAK_UNCONTROLLED_TERMS,
)
from classifiers.criteria.publication_type import PublicationTypeCriterion
from classifiers.text import BACKGROUND_CUES, FUTURE_CUES, Doc, Hit, doc_for, evidence_list
from classifiers.types import CriterionResult


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
            "uncontrolled_terms",
            UNCONTROLLED_TERMS + METHOD_TERMS,
            extend_key="extra_uncontrolled_terms",
        )
        self._weak_uncontrolled = p.terms(
            "weak_uncontrolled_terms", WEAK_UNCONTROLLED_TERMS + OVER_TIME_TERMS
        )
        self._background = p.terms("background_cues", BACKGROUND_CUES)
        self._future = p.terms("future_cues", FUTURE_CUES)
        self._ignore = p.terms("ignore_terms", IGNORE_TERMS)
        self._self_selected = p.terms("self_selected_terms", SELF_SELECTED_TERMS)
        self._mixed = p.terms("mixed_evidence_terms", MIXED_EVIDENCE_TERMS)
        self._reviewed_trials = p.terms("reviewed_trials_terms", REVIEWED_TRIALS_TERMS)
        self._method = p.terms("method_terms", METHOD_TERMS)
        self._allocation = p.terms("allocation_terms", ALLOCATION_TERMS)
        self._over_time = p.terms("over_time_terms", OVER_TIME_TERMS)
        self._single = p.terms("single_condition_terms", SINGLE_CONDITION_TERMS)
        self._chemistry = p.terms("chemistry_terms", CHEMISTRY_TERMS)
        self._subjects = p.terms("subject_terms", SUBJECT_TERMS)
        self._scarce = re.compile(r"\b(few|no|lack|lacking|scarce|absence|without)\b")
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

    def facts(self, doc: Doc, secondary: bool) -> DesignFacts:
        """What the record says about its own study's design (see ``DesignFacts``)."""
        control = self._drop_ignored(doc, doc.find(self._control) + doc.find(self._comparators))
        weak_control = self._drop_ignored(doc, doc.find(self._weak_control))
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

        facts = DesignFacts()
        # Users against non-users, dosing against non-dosing days: a comparison, but of
        # groups that chose themselves; so is any "control" in the same sentence.
        control = own(control)
        for h in control:
            if self._self_selected.match(doc.low[h.field], h.start):
                facts.self_selected.append(h)
        chosen = {h.sentence for h in facts.self_selected}
        for h in control:
            if h in facts.self_selected:
                continue
            if h.sentence in chosen:
                facts.self_selected.append(h)
            elif self._negation.search(doc.before(h, 40)):
                matched = doc.texts[h.field][h.start : h.end] + doc.after(h, 15)
                arm = self._arm.search(matched)
                (facts.uncontrolled if arm else facts.leaning_against).append(h)
            else:
                facts.assigned.append(h)
        facts.leaning_for = [
            h for h in own(weak_control) if not self._negation.search(doc.before(h, 25))
        ]
        # One pass per vocabulary: the finer facts are told apart by matching at each hit.
        uncontrolled = own(uncontrolled)
        low = doc.low
        methods = [h for h in uncontrolled if self._method.match(low[h.field], h.start)]
        if methods and facts.assigned and own(doc.find(self._allocation)):
            uncontrolled = [h for h in uncontrolled if h not in methods]  # measures in a trial
        facts.uncontrolled += uncontrolled
        for h in own(weak_uncontrolled):
            if not self._over_time.match(low[h.field], h.start):
                facts.leaning_against.append(h)
            elif not facts.leaning_for:
                facts.over_time.append(h)
        # "open-label" (or an extension phase) in the title names the whole study's
        # design: strong against, unless the title also names a comparison.
        in_title = [
            h
            for h in facts.assigned + facts.leaning_for
            if doc.sentences[h.sentence].field == "title"
        ]
        if not in_title:
            title_open = [
                h for h in facts.leaning_against if doc.sentences[h.sentence].field == "title"
            ]
            facts.uncontrolled += title_open
            facts.leaning_against = [h for h in facts.leaning_against if h not in title_open]
        facts.single_condition = [
            h for h in facts.uncontrolled if self._single.match(doc.low[h.field], h.start)
        ]
        facts.title_against = [
            h for h in facts.uncontrolled if doc.sentences[h.sentence].field == "title"
        ]
        return facts

    def chemistry(self, doc: Doc) -> list[Hit]:
        """Assay wording in a record that names no subjects (asked last: it is rarely needed)."""
        found = doc.find(self._chemistry)
        return found if found and not doc.find(self._subjects) else []

    def evaluate(self, record: dict[str, Any]) -> CriterionResult:
        doc = doc_for(record)
        if not doc.texts:
            return CriterionResult("unclear", 0.5, [], "no title or abstract")
        secondary = self._secondary.secondary(record, doc)
        facts = self.facts(doc, secondary)
        if secondary:
            return self._judge_review(doc, facts)
        return self._judge_study(doc, facts)

    def _judge_review(self, doc: Doc, facts: DesignFacts) -> CriterionResult:
        """A review is judged on the designs of the studies it discusses."""
        mixed = doc.find(self._mixed)
        # weighed by sentences: one sentence may name a placebo-controlled trial twice
        if facts.assigned and len({h.sentence for h in mixed}) < len(
            {h.sentence for h in facts.assigned}
        ):
            return CriterionResult(
                "met", 0.75, evidence_list(doc, facts.assigned), "discusses controlled studies"
            )
        trials = [
            h for h in doc.find(self._reviewed_trials) if not self._scarce.search(doc.before(h))
        ]
        if trials and not mixed and not facts.uncontrolled:
            return CriterionResult(
                "met", 0.7, evidence_list(doc, trials), "reviews randomised or controlled trials"
            )
        negated_arms = [
            h for h in facts.uncontrolled if self._control.match(doc.low[h.field], h.start)
        ]
        uncontrolled_words = [
            h for h in facts.uncontrolled if "ncontrolled" in doc.texts[h.field][h.start : h.end]
        ]
        if (negated_arms or uncontrolled_words) and not facts.assigned:
            return CriterionResult(
                "not_met",
                0.75,
                evidence_list(doc, negated_arms + uncontrolled_words),
                "discusses only uncontrolled work",
            )
        if facts.assigned:
            return CriterionResult(
                "unclear",
                0.5,
                evidence_list(doc, facts.assigned + mixed),
                "discusses controlled and uncontrolled evidence together",
            )
        return CriterionResult(
            "unclear",
            0.5,
            evidence_list(doc, facts.uncontrolled + facts.leaning_for),
            "a review or opinion piece that does not say which designs it concerns",
        )

    def _judge_study(self, doc: Doc, facts: DesignFacts) -> CriterionResult:
        """A primary study: an assigned comparison against an uncontrolled design."""
        assigned, against = facts.assigned, facts.uncontrolled
        if facts.single_condition:
            return CriterionResult(
                "not_met",
                0.85,
                evidence_list(doc, facts.single_condition),
                "one condition for everyone (a single arm, cohort or placebo for all)",
            )
        if against:
            if len(assigned) > len(against) and not facts.title_against:
                return CriterionResult(
                    "met",
                    0.6,
                    evidence_list(doc, assigned),
                    "a comparison condition, despite some uncontrolled wording",
                )
            return CriterionResult(
                "not_met",
                0.9 if not assigned else 0.75,
                evidence_list(doc, facts.title_against + against),
                "no comparison condition (uncontrolled design)",
            )
        if assigned:
            return CriterionResult(
                "met", 0.92, evidence_list(doc, assigned), "has a comparison condition"
            )
        if facts.self_selected:
            # followed side by side (not a survey's "controls"): a concurrent comparison
            # group as the protocol admits, though not an assigned one
            return CriterionResult(
                "met",
                0.75,
                evidence_list(doc, facts.self_selected),
                "a concurrent comparison group of non-users followed alongside (not assigned)",
            )
        leaning_for = facts.leaning_for
        leaning_against = facts.leaning_against + facts.over_time
        if leaning_for and not leaning_against:
            many = len({h.sentence for h in leaning_for}) >= 2 or len(leaning_for) >= 2
            return CriterionResult(
                "met",
                0.8 if many else 0.65,
                evidence_list(doc, leaning_for),
                "randomised or blinded comparison",
            )
        if leaning_against and not leaning_for:
            return CriterionResult(
                "not_met",
                0.75,
                evidence_list(doc, leaning_against),
                "open-label, self-tracked or before-after design without a comparison condition",
            )
        if leaning_against:
            return CriterionResult(
                "unclear",
                0.5,
                evidence_list(doc, leaning_for + leaning_against),
                "randomisation or blinding named next to an open or before-after design",
            )
        chemistry = self.chemistry(doc)
        if chemistry:
            return CriterionResult(
                "not_met",
                0.75,
                evidence_list(doc, chemistry),
                "analytical chemistry: nothing is given to anyone, so nothing is compared",
            )
        if not doc.has_abstract:
            return CriterionResult("unclear", 0.5, [], "title only; the design is not stated")
        return CriterionResult(
            "unclear",
            0.5,
            evidence_list(doc, [s for s in doc.sentences if s.field == "title"]),
            "the abstract does not describe a comparison condition or its absence",
        )


@dataclass(slots=True)
class DesignFacts:
    """The design facts stated about the record's own study, as text hits.

    ``assigned``: a named comparison condition (placebo, vehicle, sham, waitlist,
    comparator); ``self_selected``: groups that chose themselves (users and non-users);
    ``uncontrolled``: an uncontrolled design named outright (single-arm, survey, case
    report, a negated comparison arm, open-label in the title); ``leaning_for`` /
    ``leaning_against``: randomisation or blinding / open-label, self-tracking, one
    group before and after; ``title_against``: the uncontrolled facts in the title;
    ``single_condition``: one condition for all (single arm, placebo for everyone);
    ``over_time``: one group before and after (looked for only without ``leaning_for``).
    """

    assigned: list[Hit] = field(default_factory=list)
    self_selected: list[Hit] = field(default_factory=list)
    uncontrolled: list[Hit] = field(default_factory=list)
    leaning_for: list[Hit] = field(default_factory=list)
    leaning_against: list[Hit] = field(default_factory=list)
    title_against: list[Hit] = field(default_factory=list)
    single_condition: list[Hit] = field(default_factory=list)
    over_time: list[Hit] = field(default_factory=list)


__all__ = ["DesignCriterion", "DesignFacts"]
