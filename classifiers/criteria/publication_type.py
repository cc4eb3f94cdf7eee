"""The ``publication_type`` kind: does the record report a primary study?

``not_met`` for reviews, systematic reviews, meta-analyses, editorials, comments,
news, consensus/Delphi statements and systematic-review protocols, whether PubMed
indexes them so or the text says so ("In this review we ...", "Here we appraise 23
studies") while indexed only as "Journal Article". Letters are ``not_met`` unless
they report their own data (research letters). Published *trial* protocols are
``met`` and flagged as ongoing studies (``PublicationTypeResult.ongoing``).
Secondary analyses of one trial and conference abstracts of original studies are
``met``; pooled or individual-participant analyses of several trials are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifiers.criteria import Params
from classifiers.text import Doc, doc_for, evidence_list, list_field
from classifiers.types import CriterionResult, Evidence

NOT_PRIMARY_TYPES: tuple[str, ...] = (
    "Review",
    "Systematic Review",
    "Scoping Review",
    "Meta-Analysis",
    "Editorial",
    "Comment",
    "News",
    "Newspaper Article",
    "Consensus Development Conference",
    "Consensus Development Conference, NIH",
    "Practice Guideline",
    "Guideline",
    "Interview",
    "Biography",
    "Published Erratum",
    "Retraction of Publication",
)
LETTER_TYPES: tuple[str, ...] = ("Letter",)
PROTOCOL_TYPES: tuple[str, ...] = ("Clinical Trial Protocol",)
PRIMARY_TYPES: tuple[str, ...] = (
    "Randomized Controlled Trial",
    "Clinical Trial",
    "Clinical Trial, Phase I",
    "Clinical Trial, Phase II",
    "Clinical Trial, Phase III",
    "Clinical Trial, Phase IV",
    "Controlled Clinical Trial",
    "Pragmatic Clinical Trial",
    "Observational Study",
    "Comparative Study",
    "Multicenter Study",
    "Case Reports",
    "Evaluation Study",
    "Validation Study",
)
# Title words that make a record a review / opinion piece whoever wrote them.
TITLE_CUES: tuple[str, ...] = (
    r"(narrative|critical|systematic|scoping|umbrella|rapid|integrative|literature|mini-?)"
    r" review",
    r"a review",
    r"review of",
    r"reviews?$",
    r"meta-analys[ie]s",
    r"editorial",
    r"comment(ary)? on",
    r"commentary",
    r"a comment",
    r"consensus",
    r"delphi",
    r"critical appraisal",
    r"appraisal of",
    r"letter in response",
    r"reply to",
)
# Title words that suggest, but do not establish, an opinion piece.
WEAK_TITLE_CUES: tuple[str, ...] = (
    r"perspectives?",
    r"viewpoint",
    r"overview",
    r"where do we stand",
    r"a primer",
    r"state of the art",
    r"hype",
    r"time for",
    r"what (do|does|can) \w+( \w+)? (tell|teach)",
)
# Sentences in which the authors say what kind of paper this is.
SELF_CUES: tuple[str, ...] = (
    r"in this (narrative |critical |systematic |scoping |brief |mini-?)?review",
    r"this (narrative |critical |systematic |scoping |brief |mini-?)?review "
    r"(summari[sz]es|describes|examines|discusses|considers|covers|synthesi[sz]es)",
    r"we (critically |systematically |briefly )?review(ed)? (the |all )?"
    r"(available |current |recent |published )?"
    r"(evidence|literature|studies|trials|data|findings|research|work)",
    r"we (critically |systematically )?reviewed (\w+ )?(studies|trials)",
    r"here,? we (appraise|review|summari[sz]e|discuss)",
    r"we (appraise|summari[sz]e) (\d+|the|published|data from)",
    r"we (systematically )?searched",
    # analyses that pool several trials are secondary research, unlike a secondary
    # analysis of one trial (which reports that trial's own data)
    r"pooled (analysis|analyses|data) (of|from|across) (the )?(two|three|four|five|six|several"
    r"|multiple|\d+|[a-z]+ (independent|separate|published|randomi[sz]ed|placebo-controlled))"
    r"( \w+){0,3} (trials|studies)",
    r"(data|results) (of|from) (two|three|four|five|six|several|multiple|\d+)( \w+){0,3}"
    r" (trials|studies) (were|was) pooled",
    r"individual[- ](participant|patient)[- ](data|level)",
    r"we meta-analy[sz]ed",
    r"(\d+|[a-z]+-?[a-z]*) (studies|trials|articles|records) (were|met) (included|inclusion)",
    r"in this (editorial|commentary|comment|letter|perspective|viewpoint)",
    r"this (editorial|commentary|perspective) (considers|argues|discusses|examines)",
    r"we read with interest",
    r"delphi",
    r"consensus statement",
    r"we (convened|assembled) an? (international |expert )?panel",
)
REVIEW_PROTOCOL_CUES: tuple[str, ...] = (
    r"protocol (for|of) an? (systematic|scoping|umbrella|rapid) review",
    r"(systematic|scoping|umbrella) review (and meta-analysis )?protocol",
    r"prospero",
)
TRIAL_PROTOCOL_CUES: tuple[str, ...] = (
    r"(study|trial) protocol",
    r"protocol (for|of) an?",
    r"this protocol describes",
    r": protocol",
    r"protocol$",
)
ORIGINAL_DATA_CUES: tuple[str, ...] = (
    r"we report (original|new|our own|preliminary|first) (data|results|findings)",
    r"original data",
    r"(secondary|post hoc|post-hoc|exploratory) analysis",
    r"we (randomi[sz]ed|recruited|enrolled|conducted|tested|studied|measured|surveyed|interviewed)",
    r"were randomi[sz]ed",
)
NO_DATA_CUES: tuple[str, ...] = (
    r"(do|does|did) not (present|report|include) (any )?(new|original) data",
    r"no new data",
)
STUDY_TITLE_CUES: tuple[str, ...] = (
    r"trial",
    r"study",
    r"survey",
    r"case report",
    r"case series",
    r"cohort",
    r"experiment\w*",
    r"analysis",
    r"in (mice|rats|zebrafish|rodents|monkeys|macaques|volunteers|patients|adults)",
    r"versus",
)


@dataclass(slots=True)
class PublicationTypeResult(CriterionResult):
    """A publication-type verdict; ``ongoing`` marks a published trial protocol."""

    ongoing: bool = False

    def to_json(self) -> dict[str, Any]:
        out = CriterionResult.to_json(self)
        if self.ongoing:
            out["ongoing"] = True
        return out


class PublicationTypeCriterion:
    """Does the record report a primary study (or a protocol of an ongoing trial)?"""

    kind = "publication_type"

    def __init__(self, name: str = "primary_study", **params: Any) -> None:
        p = Params(name, self.kind, params)
        self.name = name
        self.not_primary_types = {
            t.lower() for t in p.string_list("not_primary_types", NOT_PRIMARY_TYPES)
        }
        self.letter_types = {t.lower() for t in p.string_list("letter_types", LETTER_TYPES)}
        self.protocol_types = {t.lower() for t in p.string_list("protocol_types", PROTOCOL_TYPES)}
        self.primary_types = {t.lower() for t in p.string_list("primary_types", PRIMARY_TYPES)}
        self.protocols_count = p.boolean("trial_protocols_count", True)
        self._title_cues = p.terms("title_cues", TITLE_CUES, extend_key="extra_title_cues")
        self._self_cues = p.terms("self_cues", SELF_CUES, extend_key="extra_self_cues")
        self._weak_title_cues = p.terms("weak_title_cues", WEAK_TITLE_CUES)
        self._review_protocol = p.terms("review_protocol_cues", REVIEW_PROTOCOL_CUES)
        self._trial_protocol = p.terms("trial_protocol_cues", TRIAL_PROTOCOL_CUES)
        self._original = p.terms("original_data_cues", ORIGINAL_DATA_CUES)
        self._no_data = p.terms("no_data_cues", NO_DATA_CUES)
        self._study_title = p.terms("study_title_cues", STUDY_TITLE_CUES)
        p.finish()

    def secondary(self, record: dict[str, Any], doc: Doc | None = None) -> bool:
        """True when the record looks like a review/opinion piece (used by other kinds too)."""
        doc = doc if doc is not None else doc_for(record)
        types = {t.lower() for t in list_field(record, "publication_types")}
        if types & self.not_primary_types:
            return True
        if doc.find(self._review_protocol, ["title"]):
            return True
        if types & self.letter_types and not doc.find(self._original, ["abstract"]):
            return True
        return bool(
            doc.find(self._title_cues, ["title"]) or doc.find(self._self_cues, ["abstract"])
        )

    def evaluate(self, record: dict[str, Any]) -> CriterionResult:
        doc = doc_for(record)
        types_listed = list_field(record, "publication_types")
        types = {t.lower() for t in types_listed}
        title_ev: list[Evidence] = evidence_list(
            doc, [s for s in doc.sentences if s.field == "title"]
        )

        review_protocol = doc.find(self._review_protocol)
        if review_protocol:
            return PublicationTypeResult(
                "not_met",
                0.9,
                evidence_list(doc, review_protocol),
                "protocol of a systematic review, not of a trial",
            )

        protocol_hits = doc.find(self._trial_protocol, ["title"])
        if self.protocols_count and (types & self.protocol_types or protocol_hits):
            return PublicationTypeResult(
                "met",
                0.9,
                evidence_list(doc, protocol_hits) or title_ev,
                "published trial protocol: an ongoing study",
                ongoing=True,
            )

        title_cues = doc.find(self._title_cues, ["title"])
        self_cues = doc.find(self._self_cues, ["abstract"])
        cue_ev = evidence_list(doc, title_cues + self_cues)
        blocking = sorted(t for t in types_listed if t.lower() in self.not_primary_types)
        if blocking:
            return PublicationTypeResult(
                "not_met",
                0.95,
                cue_ev or title_ev,
                f"indexed as {', '.join(blocking)}",
            )

        if types & self.letter_types:
            no_data = doc.find(self._no_data)
            original = doc.find(self._original, ["abstract"])
            if original and not no_data:
                return PublicationTypeResult(
                    "met", 0.75, evidence_list(doc, original), "research letter with its own data"
                )
            return PublicationTypeResult(
                "not_met",
                0.85,
                evidence_list(doc, no_data + self_cues) or title_ev,
                "letter without original data",
            )

        if title_cues or self_cues:
            return PublicationTypeResult(
                "not_met", 0.85, cue_ev, "the text describes a review or opinion piece"
            )
        weak_title = doc.find(self._weak_title_cues, ["title"])
        if weak_title and not doc.find(self._original, ["abstract"]):
            return PublicationTypeResult(
                "unclear",
                0.5,
                evidence_list(doc, weak_title),
                "the title suggests an opinion piece; no original data described",
            )

        if not doc.has_abstract:
            study = doc.find(self._study_title, ["title"])
            if study or types & self.primary_types:
                return PublicationTypeResult(
                    "met", 0.75, evidence_list(doc, study) or title_ev, "title names a study"
                )
            return PublicationTypeResult(
                "unclear", 0.5, title_ev, "title only; the kind of paper is not evident"
            )
        return PublicationTypeResult("met", 0.88, title_ev, "reports a primary study")


__all__ = ["PublicationTypeCriterion", "PublicationTypeResult"]
