"""Study JSON -> records: what a screener and a reviewer need, and bad studies named."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from classifiers.screen import Screener
from services.imports.items import Bad
from services.pipeline.store import content_hash
from services.protocols import load_protocol
from services.registry.parse import (
    JOURNAL,
    PUBLICATION_TYPE,
    ParsedStudy,
    StudyError,
    is_registration,
    parse_studies,
    parse_study,
)
from services.settings import FLAGSHIP_PROTOCOL
from tests.registry.studies import broken, nct, study


def test_a_registration_becomes_a_record_keyed_by_its_nct_id() -> None:
    parsed = parse_study(study(nct(1)))
    record = parsed.record
    assert record.pmid == nct(1) and is_registration(record.pmid)
    assert record.nct_ids == [nct(1)]
    assert record.title == "Low-Dose Psilocybin for Low Mood in Adults"
    assert record.journal == JOURNAL and record.publication_types == [PUBLICATION_TYPE]
    assert record.year == 2025  # the start date's year
    assert record.keywords == ["Depressed Mood", "Low Mood", "microdosing", "psilocybin"]
    assert parsed.last_update == date(2026, 11, 2)
    sections = {s.label: s.text for s in record.abstract_sections}
    assert list(sections) == [
        "OFFICIAL TITLE", "SUMMARY", "CONDITIONS", "INTERVENTIONS", "DESIGN", "STATUS",
    ]  # fmt: skip
    assert sections["SUMMARY"].startswith("This study tests whether small repeated doses")
    # the dose exactly as the registrant wrote it, with the intervention's type and names
    assert sections["INTERVENTIONS"].startswith(
        "Drug: Psilocybin (4-PO-DMT): 1 mg psilocybin in an oral capsule every third day"
    )
    design = sections["DESIGN"]
    assert "Interventional study (phase 2)." in design
    assert "Allocation: randomized." in design
    assert "Masking: quadruple-blind (participant, care provider, investigator" in design
    assert "Arm 'Placebo' (placebo comparator): Identical capsule" in design
    assert sections["STATUS"] == (
        "Recruiting; start 2025-03 (actual); completion 2027-06-30 (estimated); no results posted."
    )
    assert record.abstract is not None
    assert record.abstract.splitlines()[4] == f"DESIGN: {design}"


def test_the_flagship_criteria_screen_a_registration() -> None:
    screener = Screener(load_protocol(FLAGSHIP_PROTOCOL).build_criteria())
    result = screener.screen(parse_study(study(nct(1))).record.to_export())
    assert result.decision == "include"
    assert {name: c.verdict for name, c in result.criteria.items()} == {
        "psilocybin": "met", "low_dose": "met", "controlled": "met", "primary_study": "met",
    }  # fmt: skip


def test_status_change_and_results_change_the_content() -> None:
    def digest(**changes: Any) -> str:
        return content_hash(parse_study(study(nct(1), **changes)).record.to_json())

    base = digest()
    assert digest() == base  # parsing is deterministic
    assert digest(status="COMPLETED") != base
    assert digest(has_results=True) != base
    assert (
        "results posted."
        in parse_study(study(nct(1), has_results=True)).record.abstract_sections[-1].text
    )


def test_only_a_brief_or_an_official_title_is_enough() -> None:
    data = study(nct(2), official_title="Official Only")
    del data["protocolSection"]["identificationModule"]["briefTitle"]
    assert parse_study(data).record.title == "Official Only"
    sparse = parse_study(study(nct(3), official_title=None, start=None, completion=None))
    assert "OFFICIAL TITLE" not in sparse.record.abstract_sections[0].label
    assert sparse.record.year == 2024  # no start date: the year it was first posted


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("not an object", "a study must be a JSON object, got list"),
        ("no protocolSection", "study has no protocolSection"),
        ("bad id", "identificationModule.nctId 'NCT-12' is not an NCT id"),
        ("no title", "identificationModule has neither briefTitle nor officialTitle"),
        ("conditions", "conditionsModule.conditions must be a list of strings"),
        ("interventions", "armsInterventionsModule.interventions must be a list of objects"),
        ("module", "designModule must be an object, got list"),
        ("results", "hasResults must be true or false, got 'no'"),
    ],
)
def test_a_malformed_study_names_its_problem(change: str, problem: str) -> None:
    with pytest.raises(StudyError) as err:
        parse_study(broken(change))
    assert str(err.value).startswith(problem)


def test_a_bad_study_is_reported_and_the_page_goes_on() -> None:
    good = study(nct(1))
    faulty = broken("conditions")
    nameless = broken("bad id")
    results = list(parse_studies([good, faulty, nameless, copy.deepcopy(good)], where="page 2"))
    assert [type(r) for r in results] == [ParsedStudy, Bad, Bad, ParsedStudy]
    bad, anonymous = results[1], results[2]
    assert isinstance(bad, Bad) and isinstance(anonymous, Bad)
    assert bad.row == nct(9) and "conditions must be a list of strings" in bad.problem
    assert anonymous.row == "study 3 of page 2"  # no usable id: named by its place
