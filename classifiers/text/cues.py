"""Generic English cues shared by the criteria (each kind lets a protocol override them).

A sentence with a background cue reports other or earlier work; a future cue, work
that is needed or planned; neither describes what this record itself did.
"""

from __future__ import annotations

BACKGROUND_CUES: tuple[str, ...] = (
    r"previous(ly)?",
    r"prior (work|studies|research|trials?)",
    r"earlier (work|studies|research|trials?)",
    r"(has|have)( not| rarely| never| often| largely| mainly| mostly| also| been)* been",
    r"(has|have) (shown|reported|found|suggested|attracted|outpaced|proposed|raised|produced)",
    r"(most|many|some|other|existing|published|recent) "
    r"(evidence|studies|research|trials|reports|work|data)",
    r"in the literature",
    r"literature",
    r"usually",
    r"to date",
    r"so far",
    r"(is|are|remains?) (unknown|unclear|lacking|scarce|limited)",
    r"little is known",
    r"(those|that|what) (seen|reported|found|observed|described) in",
    r"unlike",
)
FUTURE_CUES: tuple[str, ...] = (
    r"(is|are|will be|would be|remain) (now )?(needed|required|warranted|necessary)",
    r"(needed|warranted) to",
    r"future",
    r"(are|is) planned",
    r"should (now )?(include|be tested|test|be conducted|use|prioriti[sz]e|report)",
    r"call(s|ed)? for",
    r"subsequent",
    r"(feasibility|design) of (a|the) (subsequent |future |larger |definitive )?"
    r"(randomi[sz]ed|controlled|placebo|trial)",
    r"(a|an) (larger|definitive|fully powered|adequately powered) (trial|study)",
    r"(is|are|appears?) (feasible|warranted)",
    r"motivate",
    r"would welcome",
)
