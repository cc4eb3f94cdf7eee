"""Fictional registrations shaped like ClinicalTrials.gov v2 study JSON.

Every NCT id, title and sponsor here is invented; the structure (modules, enum values,
date structs) follows the API's, so the parser meets what the real registry sends.
"""

from __future__ import annotations

from typing import Any


def study(
    nct_id: str,
    *,
    title: str = "Low-Dose Psilocybin for Low Mood in Adults",
    official_title: str | None = (
        "A Randomized, Double-Blind, Placebo-Controlled Trial of Repeated Psilocybin "
        "Microdoses in Adults With Low Mood"
    ),
    summary: str = (
        "This study tests whether small repeated doses of psilocybin improve mood "
        "compared with an inactive placebo."
    ),
    status: str = "RECRUITING",
    last_update: str = "2026-11-02",
    start: str | None = "2025-03",
    completion: str | None = "2027-06-30",
    has_results: bool = False,
    allocation: str | None = "RANDOMIZED",
    masking: str | None = "QUADRUPLE",
    dose: str = "1 mg psilocybin in an oral capsule every third day for 6 weeks",
) -> dict[str, Any]:
    """One interventional two-arm study; keyword arguments change what a test needs."""
    identification: dict[str, Any] = {
        "nctId": nct_id,
        "orgStudyIdInfo": {"id": f"FICT-{nct_id[-4:]}"},
        "organization": {"fullName": "Fictional University Hospital", "class": "OTHER"},
        "briefTitle": title,
    }
    if official_title is not None:
        identification["officialTitle"] = official_title
    status_module: dict[str, Any] = {
        "statusVerifiedDate": last_update[:7],
        "overallStatus": status,
        "studyFirstSubmitDate": "2024-11-20",
        "studyFirstPostDateStruct": {"date": "2024-12-01", "type": "ACTUAL"},
        "lastUpdateSubmitDate": last_update,
        "lastUpdatePostDateStruct": {"date": last_update, "type": "ACTUAL"},
    }
    if start is not None:
        status_module["startDateStruct"] = {"date": start, "type": "ACTUAL"}
    if completion is not None:
        status_module["completionDateStruct"] = {"date": completion, "type": "ESTIMATED"}
    design_info: dict[str, Any] = {
        "interventionModel": "PARALLEL",
        "primaryPurpose": "TREATMENT",
    }
    if allocation is not None:
        design_info["allocation"] = allocation
    if masking is not None:
        design_info["maskingInfo"] = {
            "masking": masking,
            "whoMasked": ["PARTICIPANT", "CARE_PROVIDER", "INVESTIGATOR", "OUTCOMES_ASSESSOR"],
        }
    return {
        "protocolSection": {
            "identificationModule": identification,
            "statusModule": status_module,
            "descriptionModule": {"briefSummary": summary},
            "conditionsModule": {
                "conditions": ["Depressed Mood", "Low Mood"],
                "keywords": ["microdosing", "psilocybin"],
            },
            "designModule": {
                "studyType": "INTERVENTIONAL",
                "phases": ["PHASE2"],
                "designInfo": design_info,
                "enrollmentInfo": {"count": 120, "type": "ESTIMATED"},
            },
            "armsInterventionsModule": {
                "armGroups": [
                    {
                        "label": "Psilocybin microdose",
                        "type": "EXPERIMENTAL",
                        "description": f"Participants take {dose}.",
                        "interventionNames": ["Drug: Psilocybin"],
                    },
                    {
                        "label": "Placebo",
                        "type": "PLACEBO_COMPARATOR",
                        "description": "Identical capsule containing microcrystalline cellulose.",
                        "interventionNames": ["Drug: Placebo"],
                    },
                ],
                "interventions": [
                    {
                        "type": "DRUG",
                        "name": "Psilocybin",
                        "description": dose.capitalize(),
                        "armGroupLabels": ["Psilocybin microdose"],
                        "otherNames": ["4-PO-DMT"],
                    },
                    {
                        "type": "DRUG",
                        "name": "Placebo",
                        "description": "Matching capsule without active substance",
                        "armGroupLabels": ["Placebo"],
                    },
                ],
            },
        },
        "hasResults": has_results,
    }


def nct(number: int) -> str:
    """A fictional NCT id (the 099 prefix keeps them apart from any in the tests' data)."""
    return f"NCT099{number:05d}"


def broken(change: str) -> Any:
    """A study with one thing wrong, named by ``change``; the parser must name it."""
    data: Any = study(nct(9))
    protocol = data["protocolSection"]
    if change == "not an object":
        return ["NCT09900009"]
    if change == "no protocolSection":
        del data["protocolSection"]
    elif change == "bad id":
        protocol["identificationModule"]["nctId"] = "NCT-12"
    elif change == "no title":
        del protocol["identificationModule"]["briefTitle"]
        del protocol["identificationModule"]["officialTitle"]
    elif change == "conditions":
        protocol["conditionsModule"]["conditions"] = "Low Mood"
    elif change == "interventions":
        protocol["armsInterventionsModule"]["interventions"] = [{"name": "x"}, "Drug: x"]
    elif change == "module":
        protocol["designModule"] = ["INTERVENTIONAL"]
    elif change == "results":
        data["hasResults"] = "no"
    return data
