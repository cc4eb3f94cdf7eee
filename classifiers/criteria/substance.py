"""The ``substance`` kind: is the named substance given, or its use the studied exposure?

The judgement is made from where the substance's names occur, not merely whether:

* a mention in a sentence that says something was given, taken, used or dosed
  (an *administration* sentence) is strong evidence, even when other substances
  are given too (multi-substance studies count);
* a mention in the title is good evidence, unless the title is about a related
  compound ("a deuterated psilocin analogue", "baeocystin, a Psilocybe alkaloid");
* mentions in background sentences ("Previous ... studies", "Unlike psilocybin, ..."),
  negated mentions ("without psilocybin", "none of whom had used psilocybin") and
  mentions in a sentence about a related compound do not count;
* records about making, growing or analysing the substance (biosynthesis, potency
  assays, forensic identification, poisoning by look-alikes) are ``not_met``;
* when the text names no form of the substance, MeSH headings and keywords decide
  (psilocybin indexed: met; only another drug indexed: not met).

All vocabularies are parameters (regular-expression fragments, case-insensitive),
so another review can reuse the kind for another substance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from classifiers.criteria import Params
from classifiers.text import (
    BACKGROUND_CUES,
    Doc,
    Hit,
    doc_for,
    evidence_list,
    list_field,
    lower_text,
)
from classifiers.types import CriterionResult, Evidence

# What counts as "given, taken, used or dosed" in a sentence (generic English).
ADMINISTRATION_CUES: tuple[str, ...] = (
    r"receiv\w*",
    r"administ\w*",
    r"self-administ\w*",
    r"randomi[sz]\w*",
    r"randomly",
    r"allocated",
    r"assigned",
    r"given",
    r"took",
    r"tak(e|es|ing|en)",
    r"ingest\w*",
    r"consum\w*",
    r"swallow\w*",
    r"inject\w*",
    r"infus\w*",
    r"exposed",
    r"exposure",
    r"treated",
    r"treatment with",
    r"dos(ed|ing)",
    r"doses? of",
    r"micro-?dos\w*",
    r"us(e|ed|ers?|ing)",
    r"capsules?",
    r"tablets?",
    r"versus",
    r"compared",
    r"arms?",
    r"\d+(\.\d+)?\s?(mg|µg|μg|ug|mcg|g|mg/kg|µg/kg|μg/kg|ug/kg|mg/l|µm|μm)",
)
# Words right before a mention that make it a contrast, comparison or negation.
CONTRAST_BEFORE: tuple[str, ...] = (
    r"unlike",
    r"like",
    r"than",
    r"besides",
    r"alternative to",
    r"alternatives to",
    r"analogues? of",
    r"analogs? of",
    r"instead of",
    r"rather than",
    r"other than",
    r"contrast to",
    r"reported for",
    r"data for",
    r"without",
    r"no",
    r"non-?",
)
NEGATION_IN_CLAUSE: tuple[str, ...] = (
    r"never",
    r"none of (whom|them|the participants)",
    r"no longer",
    r"not (given|receive\w*|administered|used|taken)",
    r"contain(s|ed)? no",
    r"free of",
    r"withdrew",
)
CANCEL_CUES: tuple[str, ...] = (
    r"originally designed",
    r"withdrew (its |their )?supply",
    r"could not be carried out",
    r"(was|were) (dropped|discontinued|cancelled|removed) before",
    r"amended (two|three)-arm design",
)
# Subjects: who could have been given something.
SUBJECT_CUES: tuple[str, ...] = (
    r"participants?",
    r"volunteers?",
    r"patients?",
    r"adults?",
    r"users?",
    r"respondents?",
    r"microdosers?",
    r"subjects",
    r"mice",
    r"rats?",
    r"zebrafish",
    r"larvae",
    r"animals",
    r"monkeys?",
    r"macaques?",
    r"marmosets?",
)

_INDEX_CACHE_SIZE = 20_000  # MeSH headings and keywords remembered per criterion


class SubstanceCriterion:
    """Is the configured substance administered, or its use the studied exposure?"""

    kind = "substance"

    def __init__(self, name: str = "substance", **params: Any) -> None:
        p = Params(name, self.kind, params)
        self.name = name
        self.substance = p.string_list("substance", ["the substance"])[0]
        self._terms = p.terms("terms", required=True)
        self._weak = p.terms("weak_terms")
        self._weak_context = p.terms("weak_context_terms")
        self._related = p.terms("related_terms")
        self._others = p.terms("other_substances")
        self._generic = p.terms("generic_terms")
        self._no_exposure = p.terms("no_exposure_terms")
        self._index_terms = p.terms("index_terms")
        self._admin = p.terms("administration_cues", ADMINISTRATION_CUES)
        self._background = p.terms("background_cues", BACKGROUND_CUES)
        self._cancel = p.terms("cancel_cues", CANCEL_CUES)
        self._subjects = p.terms("subject_cues", SUBJECT_CUES)
        self._negation = p.terms("negation_cues", NEGATION_IN_CLAUSE)
        contrast = p.string_list("contrast_cues", CONTRAST_BEFORE)
        try:
            self._contrast = re.compile(
                r"(?<![\w])(?:" + "|".join(f"(?:{c})" for c in contrast) + r")\W{0,3}$",
                re.IGNORECASE,
            )
        except re.error as exc:
            raise p.error("contrast_cues", f"invalid regular expression: {exc}") from None
        self._free_after = re.compile(r"^-?(free|naive|naïve)\b", re.IGNORECASE)
        self._index_kinds: dict[str, tuple[bool, bool]] = {}
        p.finish()

    # ------------------------------------------------------------------ helpers
    def _hits(self, doc: Doc) -> tuple[list[Hit], list[Hit], set[int]]:
        """Target hits, rival hits (related compounds, other substances), related sentences.

        Overlapping hits keep the longest (4-PO-DMT is the target, not DMT; "deuterated
        psilocin analogue" is a related compound, not psilocin).
        """
        tagged: list[tuple[Hit, str]] = [(h, "target") for h in doc.find(self._terms)]
        tagged += [(h, "related") for h in doc.find(self._related)]
        tagged += [(h, "other") for h in doc.find(self._others)]
        for h in doc.find(self._weak):
            if doc.search(self._weak_context, h.sentence):
                tagged.append((h, "weak"))
        tagged.sort(key=lambda t: (t[0].field, t[0].start, -(t[0].end - t[0].start)))
        kept: list[tuple[Hit, str]] = []
        for hit, tag in tagged:
            if kept:
                prev = kept[-1][0]
                if prev.field == hit.field and hit.start < prev.end:
                    continue  # overlaps a longer (or earlier) hit
            kept.append((hit, tag))
        target = [h for h, t in kept if t in ("target", "weak")]
        rivals = [h for h, t in kept if t in ("related", "other")]
        related_sentences = {h.sentence for h, t in kept if t == "related"}
        return target, rivals, related_sentences

    def _negated(self, doc: Doc, hit: Hit) -> bool:
        if self._contrast.search(doc.before(hit, 30)):
            return True
        if self._free_after.match(doc.after(hit, 10)):
            return True
        return bool(self._negation.search(doc.before(hit, 60)))

    def _index_names(self, record: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        names = list_field(record, "mesh_terms") + list_field(record, "keywords")
        kinds = [self._index_kind(n) for n in names]
        target = [n for n, (is_target, _) in zip(names, kinds, strict=True) if is_target]
        rival = [n for n, (_, is_rival) in zip(names, kinds, strict=True) if is_rival]
        return target, rival

    def _index_kind(self, name: str) -> tuple[bool, bool]:
        """Whether a MeSH heading or keyword names the substance, and whether a rival.

        Remembered per criterion: the same headings ("Humans", "Male") recur in most
        records, and each costs four vocabulary searches.
        """
        kind = self._index_kinds.get(name)
        if kind is None:
            x = lower_text(name)
            kind = (
                bool(self._terms.search(x) or self._index_terms.search(x)),
                bool(self._others.search(x) or self._related.search(x)),
            )
            if len(self._index_kinds) >= _INDEX_CACHE_SIZE:
                self._index_kinds.clear()
            self._index_kinds[name] = kind
        return kind

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, record: dict[str, Any]) -> CriterionResult:  # noqa: C901 - a rule list
        doc = doc_for(record)
        subst = self.substance
        if not doc.texts:
            return CriterionResult("unclear", 0.5, [], "no title or abstract")
        # the title's sentences come first and are numbered consecutively
        title_starts = doc._starts.get("title")
        title_sentences = (
            range(title_starts[1], title_starts[1] + len(title_starts[0]))
            if title_starts is not None
            else range(0)
        )
        target, rivals, related_sentences = self._hits(doc)
        flags: dict[tuple[int, int], bool] = {}

        def flag(pattern: re.Pattern[str], sentence: int) -> bool:
            key = (id(pattern), sentence)
            if key not in flags:
                flags[key] = doc.search(pattern, sentence)
            return flags[key]

        # 1. making, growing or analysing the substance; nothing given to anyone
        if target:
            no_exposure = doc.find(self._no_exposure)
            in_title = [h for h in no_exposure if h.field == "title"]
            body = {h.sentence for h in no_exposure if h.field != "title"}
            if in_title or (len(body) >= 2 and not doc.find(self._subjects)):
                return CriterionResult(
                    "not_met",
                    0.85,
                    evidence_list(doc, in_title or no_exposure),
                    f"{subst} is produced, analysed or identified here, not given to anyone",
                )

        counted = [
            h
            for h in target
            if not flag(self._background, h.sentence)
            and h.sentence not in related_sentences
            and not self._negated(doc, h)
        ]
        cancelled = [h for h in target if flag(self._cancel, h.sentence)]
        if cancelled:
            return CriterionResult(
                "not_met",
                0.8,
                evidence_list(doc, cancelled),
                f"the planned {subst} arm was not carried out",
            )
        admin_sentences = {h.sentence for h in counted + rivals if flag(self._admin, h.sentence)}
        background = {h.sentence for h in rivals if flag(self._background, h.sentence)}
        admin = [h for h in counted if h.sentence in admin_sentences and h.field != "title"]
        title = [h for h in counted if h.sentence in title_sentences]
        rival_counted = [
            h for h in rivals if h.sentence not in background and not self._negated(doc, h)
        ]
        rival_title = [h for h in rival_counted if h.sentence in title_sentences]
        rival_admin = [h for h in rival_counted if h.sentence in admin_sentences]
        rival_names = sorted(
            {doc.texts[h.field][h.start : h.end] for h in rival_admin + rival_title}
        )

        if admin:
            return CriterionResult(
                "met", 0.92, evidence_list(doc, title + admin), f"{subst} is given or used"
            )
        if title and not rival_title:
            return CriterionResult("met", 0.82, evidence_list(doc, title), f"{subst} is the topic")
        if counted:
            if rival_title or rival_admin:
                return CriterionResult(
                    "not_met",
                    0.75,
                    evidence_list(doc, rival_title + rival_admin + counted),
                    f"{', '.join(rival_names)} is what is studied; {subst} is only mentioned",
                )
            return CriterionResult(
                "met", 0.7, evidence_list(doc, counted), f"{subst} is discussed as the exposure"
            )
        if target:  # only background, contrast or negated mentions
            if rival_title or rival_admin:
                return CriterionResult(
                    "not_met",
                    0.85,
                    evidence_list(doc, rival_title + rival_admin + target),
                    f"{', '.join(rival_names)} is studied; {subst} appears only as background",
                )
            return CriterionResult(
                "unclear",
                0.5,
                evidence_list(doc, target),
                f"{subst} appears only as background or negated",
            )

        # 2. the text names no form of the substance
        if rival_title or rival_admin:
            return CriterionResult(
                "not_met",
                0.9,
                evidence_list(doc, rival_title + rival_admin),
                f"only {', '.join(rival_names)} is studied, not {subst}",
            )
        index_target, index_rival = self._index_names(record)
        generic = doc.find(self._generic)
        if generic or index_target:
            where = evidence_list(doc, generic) or evidence_list(doc, doc.sentences[:1])
            if index_target and not index_rival:
                return CriterionResult(
                    "met",
                    0.7,
                    where,
                    f"the text names no substance; MeSH/keywords name {index_target[0]}",
                )
            if index_rival and not index_target:
                return CriterionResult(
                    "not_met",
                    0.75,
                    where,
                    f"the text names no substance; MeSH/keywords name {index_rival[0]}, "
                    f"not {subst}",
                )
            return CriterionResult(
                "unclear", 0.5, where, f"a substance is named only generically; {subst} unclear"
            )
        if rivals:
            return CriterionResult(
                "not_met",
                0.85,
                evidence_list(doc, rivals),
                f"only other substances are mentioned, not {subst}",
            )
        if not doc.has_abstract:
            return CriterionResult(
                "unclear", 0.5, [], f"title only, and the title does not name {subst}"
            )
        title_ev: list[Evidence] = evidence_list(
            doc, [s for s in doc.sentences if s.field == "title"]
        )
        return CriterionResult(
            "not_met", 0.88, title_ev, f"{subst} is not mentioned in the title or abstract"
        )


__all__ = ["SubstanceCriterion"]
