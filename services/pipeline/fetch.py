"""Reading efetch answers so that one malformed record never costs its batch.

The parser stops at the first spot where a body is not well-formed XML (an
unescaped ``&`` in one title is enough), after yielding the records before it.
The records after the break are not lost: they are asked for again by PMID,
once as a group (the break may have been a passing fault), then in halves,
and halves of halves, until the PMID whose body never parses stands alone. That
one is kept as ``Broken`` with the exact bytes NCBI sent and the parser's own
message; every other record of the batch comes back. Isolating one bad record
among ``n`` costs about ``2 * log2(n)`` extra requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.pubmed.parse import PubmedXMLError, iter_pubmed_xml
from services.records import Deletion, Quarantined
from services.records import Record as ParsedRecord

log = logging.getLogger(__name__)

FetchIds = Callable[[list[str]], bytes]
"""Fetch these PMIDs and answer the raw efetch body (``EutilsClient.efetch_ids``)."""


@dataclass(slots=True)
class Broken:
    """A PMID whose efetch body is not well-formed XML even when fetched on its own."""

    pmid: str
    reason: str
    raw: bytes


@dataclass
class Batch:
    """Everything a group of PMIDs came back as; each asked-for PMID ends up in one list."""

    records: list[ParsedRecord] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    problems: list[Quarantined] = field(default_factory=list)  # read, but unusable
    broken: list[Broken] = field(default_factory=list)  # never parsed, isolated
    missing: list[str] = field(default_factory=list)  # asked for, in no answer

    def returned(self) -> set[str]:
        """PMIDs some answer carried (stored, withdrawn or quarantined with a readable PMID)."""
        return (
            {r.pmid for r in self.records}
            | {p.pmid for p in self.problems if p.pmid}
            | set(self.deletions)
        )

    def add(self, other: Batch) -> None:
        self.records.extend(other.records)
        self.deletions.extend(other.deletions)
        self.problems.extend(other.problems)
        self.broken.extend(other.broken)
        self.missing.extend(other.missing)


def read_batch(body: bytes, expected: Sequence[str], fetch_ids: FetchIds) -> Batch:
    """Parse one efetch answer for ``expected``, refetching around a body that breaks."""
    out = Batch()
    _collect(body, list(expected), fetch_ids, out, retried=False)
    return out


def _parse(body: bytes) -> tuple[Batch, str | None]:
    """The items of a body up to its first break, and the parser's message for that break."""
    part = Batch()
    try:
        for item in iter_pubmed_xml(body):
            if isinstance(item, ParsedRecord):
                part.records.append(item)
            elif isinstance(item, Quarantined):
                part.problems.append(item)
            elif isinstance(item, Deletion):
                part.deletions.append(item.pmid)
    except PubmedXMLError as exc:
        return part, str(exc)
    return part, None


def _collect(
    body: bytes, expected: list[str], fetch_ids: FetchIds, out: Batch, *, retried: bool
) -> None:
    part, error = _parse(body)
    out.add(part)
    returned = part.returned()
    rest = [pmid for pmid in expected if pmid not in returned]
    if error is None or not rest:
        if error is not None:
            log.warning("efetch body breaks after its last wanted record: %s", error)
        out.missing.extend(rest)
        return
    if not retried:
        log.warning(
            "efetch body breaks (%s); asking for its %d other PMIDs again", error, len(rest)
        )
        _collect(fetch_ids(rest), rest, fetch_ids, out, retried=True)
    elif len(rest) == 1:
        log.warning("PMID %s: efetch body is not well-formed XML: %s", rest[0], error)
        out.broken.append(Broken(rest[0], error, body))
    else:
        half = len(rest) // 2
        for group in (rest[:half], rest[half:]):
            _collect(fetch_ids(group), group, fetch_ids, out, retried=True)
