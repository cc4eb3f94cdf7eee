"""Which format a file is in, from its content (file names lie: .txt holds anything).

Checked in an order where each test is unambiguous: gzip or ``<`` is XML; a line
starting with an RIS ``TY  -`` tag is RIS; a MEDLINE ``PMID-`` tag is nbib; a line that
is a JSON object is JSONL; a delimited header naming a title or abstract column is CSV.
"""

from __future__ import annotations

import csv
import io
import re

from services.imports.source import Source
from services.imports.table import column_map, sniff

FORMATS = ("ris", "nbib", "pubmed-xml", "csv", "jsonl")
RIS_START = re.compile(r"^TY  - ", re.MULTILINE)
NBIB_START = re.compile(r"^PMID- ", re.MULTILINE)
XML_ROOTS = re.compile(r"<(PubmedArticleSet|MedlineCitationSet|PubmedBookArticleSet)\b")


class UndetectableFormat(ValueError):
    """The content matches none of the formats."""


def detect_format(source: Source) -> str:
    sample = source.sample()
    text = sample.lstrip("\ufeff \t\r\n")
    if source.gzipped or text.startswith("<"):
        if XML_ROOTS.search(sample) or "<PubmedArticle" in sample:
            return "pubmed-xml"
        raise UndetectableFormat(f"{source.path}: XML, but not PubMed XML (no PubmedArticleSet)")
    normalised = sample.replace("\r\n", "\n").replace("\r", "\n")
    if RIS_START.search(normalised):
        return "ris"
    if NBIB_START.search(normalised):
        return "nbib"
    if text.startswith("{"):
        return "jsonl"
    first = normalised.lstrip("\ufeff").split("\n", 1)[0]
    try:
        header = next(csv.reader(io.StringIO(first), sniff(normalised)))
    except (csv.Error, StopIteration):
        header = []
    if len(header) > 1 and column_map(header):
        return "csv"
    raise UndetectableFormat(
        f"{source.path}: format not recognised (not RIS, nbib, PubMed XML, CSV with a title "
        "or abstract column, or JSONL); name it with --format"
    )
