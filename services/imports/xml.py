"""PubMed XML (EFetch sets, baseline and update files) through the project's own parser.

The same parser the sweeps use, so an imported XML file gives byte-for-byte the records a
sweep would have stored. DeleteCitation entries of update files come out as deletions.
A document that breaks part-way keeps the records before the break and reports the rest.
"""

from __future__ import annotations

from pathlib import Path

from services.imports.items import Bad, Deleted, Good, Items
from services.pubmed.parse import PubmedXMLError, iter_pubmed_xml
from services.records import Deletion, Quarantined, Record


def read_pubmed_xml(path: Path) -> Items:
    number = 0
    try:
        for item in iter_pubmed_xml(path):
            number += 1
            row = f"record {number}"
            if isinstance(item, Record):
                yield Good(row, item)
            elif isinstance(item, Deletion):
                yield Deleted(row, item.pmid)
            elif isinstance(item, Quarantined):
                who = f"PMID {item.pmid}: " if item.pmid else ""
                yield Bad(row, who + item.reason)
    except PubmedXMLError as exc:
        yield Bad(f"record {number + 1}", f"the XML breaks here, the rest is lost: {exc}")
