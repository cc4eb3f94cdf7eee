"""ClinicalTrials.gov v2 study JSON -> the record interchange format.

A registration is stored as a record of its own kind: its key is the NCT id (PMIDs are
digits and other keys start "doi:" or "ref:", so the two never collide), its journal is
``ClinicalTrials.gov`` and its publication type ``Clinical Trial Registration``. What a
screener needs is written into labelled abstract sections, the way PubMed structured
abstracts are, so the same criteria read it: the brief summary, the interventions with
their doses exactly as the registrant wrote them, the design (allocation, masking, arms)
and the status with start and completion dates. Putting status and results into the
content means a registration that changes status or gains results gets a new content
hash, so the store keeps it as a revision and it is screened again.

A study that cannot be read (not an object, no NCT id, no title, a module of the wrong
shape) becomes ``Bad`` naming the study and the problem; it never stops the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.imports.items import Bad, year_of
from services.pipeline.screen import LIST_FIELDS, check_record
from services.records import AbstractSection, Record

KIND = "registration"
JOURNAL = "ClinicalTrials.gov"
PUBLICATION_TYPE = "Clinical Trial Registration"
NCT_ID = re.compile(r"^NCT\d{8}$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class StudyError(ValueError):
    """One study cannot be read; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class ParsedStudy:
    """A registration as a record, with the day its last update was posted (for sweeps)."""

    record: Record
    last_update: date | None


def is_registration(key: str) -> bool:
    """Whether a stored record's key is a registration's (an NCT id)."""
    return bool(NCT_ID.match(key))


def registration_url(nct_id: str) -> str:
    """The registration's public page on ClinicalTrials.gov."""
    return f"https://clinicaltrials.gov/study/{nct_id}"


def parse_studies(studies: Iterable[Any], *, where: str = "page") -> Iterator[ParsedStudy | Bad]:
    """Each study parsed, or ``Bad`` with its NCT id (else its place) and the problem.

    ``where`` names the batch in the place of a study without a usable id ("page 2").
    """
    for index, study in enumerate(studies, start=1):
        row = _nct_id_or_none(study) or f"study {index} of {where}"
        try:
            parsed = parse_study(study)
        except StudyError as exc:
            yield Bad(row, str(exc))
            continue
        problem = check_record(
            {"title": parsed.record.title, "abstract": parsed.record.abstract}
            | {name: getattr(parsed.record, name) for name in LIST_FIELDS}
        )
        yield Bad(row, problem) if problem else parsed


def parse_study(study: Any) -> ParsedStudy:
    """One registration as a record; raises ``StudyError`` naming what is wrong."""
    if not isinstance(study, dict):
        raise StudyError(f"a study must be a JSON object, got {type(study).__name__}")
    protocol = _module(study, "protocolSection", required=True)
    ident = _module(protocol, "identificationModule", required=True)
    nct_id = ident.get("nctId")
    if not isinstance(nct_id, str) or not NCT_ID.match(nct_id.strip()):
        raise StudyError(f"identificationModule.nctId {nct_id!r} is not an NCT id (NCT + 8 digits)")
    nct_id = nct_id.strip()
    brief, official = _text(ident, "briefTitle"), _text(ident, "officialTitle")
    title = brief or official
    if not title:
        raise StudyError("identificationModule has neither briefTitle nor officialTitle")
    status = _module(protocol, "statusModule")
    conditions = _module(protocol, "conditionsModule")
    design = _module(protocol, "designModule")
    arms = _module(protocol, "armsInterventionsModule")
    description = _module(protocol, "descriptionModule")
    has_results = study.get("hasResults", False)
    if not isinstance(has_results, bool):
        raise StudyError(f"hasResults must be true or false, got {has_results!r}")
    condition_list = _strings(conditions, "conditions", "conditionsModule")
    sections = [
        AbstractSection("OFFICIAL TITLE", official) if official and official != title else None,
        _section("SUMMARY", _text(description, "briefSummary")),
        _section("CONDITIONS", "; ".join(condition_list)),
        _section("INTERVENTIONS", _interventions(arms)),
        _section("DESIGN", _design(design, arms)),
        AbstractSection("STATUS", _status(status, has_results)),
    ]
    kept = [s for s in sections if s is not None]
    start = _date_of(status, "startDateStruct")
    first_posted = _date_of(status, "studyFirstPostDateStruct")
    record = Record(
        pmid=nct_id,
        title=title,
        abstract="\n".join(f"{s.label}: {s.text}" for s in kept),
        abstract_sections=kept,
        journal=JOURNAL,
        year=year_of(start) or year_of(first_posted),
        publication_types=[PUBLICATION_TYPE],
        keywords=_unique(condition_list + _strings(conditions, "keywords", "conditionsModule")),
        nct_ids=[nct_id],
    )
    return ParsedStudy(record, _day(_date_of(status, "lastUpdatePostDateStruct")))


# -- the parts ---------------------------------------------------------------


def _interventions(arms: dict[str, Any]) -> str:
    """``Drug: Psilocybin (4-PO-DMT): 1 mg ... [arms: ...]`` per intervention, as written."""
    parts = []
    for item in _objects(arms, "interventions", "armsInterventionsModule"):
        kind = _words(_text(item, "type"))
        name = _text(item, "name") or "unnamed"
        others = _strings(item, "otherNames", "intervention")
        text = f"{kind.capitalize()}: {name}" if kind else name
        if others:
            text += f" ({', '.join(others)})"
        if detail := _text(item, "description"):
            text += f": {detail}"
        parts.append(text)
    return _sentences(parts)


def _design(design: dict[str, Any], arms: dict[str, Any]) -> str:
    """Study type and phase, allocation, masking (and who), model, and each arm."""
    parts = []
    if study_type := _words(_text(design, "studyType")):
        phases = [_words(p) for p in _strings(design, "phases", "designModule")]
        phases = [p for p in phases if p and p != "na"]
        suffix = f" ({', '.join(phases)})" if phases else ""
        parts.append(f"{study_type.capitalize()} study{suffix}")
    info = _module(design, "designInfo")
    if allocation := _text(info, "allocation"):
        parts.append(f"Allocation: {_ALLOCATION.get(allocation, _words(allocation))}")
    masking_info = _module(info, "maskingInfo")
    if masking := _text(masking_info, "masking"):
        who = [_words(w) for w in _strings(masking_info, "whoMasked", "maskingInfo")]
        text = _MASKING.get(masking, _words(masking))
        parts.append(f"Masking: {text}" + (f" ({', '.join(who)})" if who else ""))
    if model := _text(info, "interventionModel"):
        parts.append(f"Model: {_words(model)}")
    groups = _objects(arms, "armGroups", "armsInterventionsModule")
    for group in groups:
        label = _text(group, "label") or "unlabelled"
        kind = _words(_text(group, "type"))
        text = f"Arm {label!r}" + (f" ({kind})" if kind else "")
        if detail := _text(group, "description"):
            text += f": {detail}"
        parts.append(text)
    return _sentences(parts)


def _status(status: dict[str, Any], has_results: bool) -> str:
    overall = _words(_text(status, "overallStatus")) or "unknown"
    parts = [overall.capitalize()]
    for label, key in (("start", "startDateStruct"), ("completion", "completionDateStruct")):
        struct = _module(status, key)
        if when := _text(struct, "date"):
            kind = _text(struct, "type")
            parts.append(f"{label} {when}" + (f" ({_words(kind)})" if kind else ""))
    parts.append("results posted" if has_results else "no results posted")
    return "; ".join(parts) + "."


_ALLOCATION = {"RANDOMIZED": "randomized", "NON_RANDOMIZED": "non-randomized", "NA": "n/a"}
_MASKING = {
    "NONE": "none (open label)",
    "SINGLE": "single-blind",
    "DOUBLE": "double-blind",
    "TRIPLE": "triple-blind",
    "QUADRUPLE": "quadruple-blind",
}


# -- checked access: a wrong shape is a StudyError naming the field -------------


def _module(parent: dict[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = parent.get(name)
    if value is None:
        if required:
            raise StudyError(f"study has no {name}")
        return {}
    if not isinstance(value, dict):
        raise StudyError(f"{name} must be an object, got {type(value).__name__}")
    return value


def _text(parent: dict[str, Any], name: str) -> str:
    value = parent.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StudyError(f"{name} must be a string, got {type(value).__name__}")
    return " ".join(value.split())


def _strings(parent: dict[str, Any], name: str, where: str) -> list[str]:
    value = parent.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StudyError(f"{where}.{name} must be a list of strings")
    return [" ".join(v.split()) for v in value if v.strip()]


def _objects(parent: dict[str, Any], name: str, where: str) -> list[dict[str, Any]]:
    value = parent.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise StudyError(f"{where}.{name} must be a list of objects")
    return value


def _date_of(status: dict[str, Any], key: str) -> str:
    return _text(_module(status, key), "date")


def _day(text: str) -> date | None:
    """A full ``YYYY-MM-DD`` as a date (the API gives last-update days in full)."""
    match = _DAY.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise StudyError(f"lastUpdatePostDateStruct.date {text!r} is not a day") from None


def _words(enum: str) -> str:
    """An API enum (``PLACEBO_COMPARATOR``, ``PHASE2``) as words (``placebo comparator``)."""
    return re.sub(r"(?<=[a-z])(?=\d)", " ", enum.replace("_", " ").lower().strip())


def _sentences(parts: list[str]) -> str:
    """Parts as sentences, so the screeners' sentence splitting keeps each one apart."""
    return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts)


def _section(label: str, text: str) -> AbstractSection | None:
    return AbstractSection(label, text) if text else None


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def _nct_id_or_none(study: Any) -> str | None:
    """The study's NCT id when it has a plausible one, to name it in a report."""
    try:
        value = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return value.strip() if isinstance(value, str) and NCT_ID.match(value.strip()) else None
