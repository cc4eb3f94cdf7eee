"""RIS, the format reference managers import.

``TY`` follows the record's kind; keywords go in ``KW`` and MeSH headings in ``MH`` (the
tag PubMed's own MEDLINE format uses), so a reference manager never mixes the two;
volume, issue and pages in ``VL``/``IS``/``SP``/``EP``; human decisions, the
resolution and the machine's verdicts go into notes (``N1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

TYPES = {
    "journal_article": "JOUR",
    "book": "BOOK",
    "chapter": "CHAP",
    "preprint": "UNPB",
    "registry": "DBASE",
}
PAGES = re.compile(r"^\s*([A-Za-z]?\d+)\s*[-–]\s*([A-Za-z]?\d+)\s*$")


def _line(tag: str, value: Any) -> str:
    text = " ".join(str(value).split())  # RIS is line-based: no newlines inside a value
    return f"{tag}  - {text}\r\n"


def page_range(pages: str) -> tuple[str, str | None]:
    """(start, end) of a page field; MEDLINE's shortened ends are expanded (123-9 is 123-129)."""
    match = PAGES.match(pages)
    if not match:
        return pages.strip(), None
    start, end = match.groups()
    if end.isdigit() and start.isdigit() and len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return start, end


def entry(row: dict[str, Any]) -> str:
    lines = [_line("TY", TYPES.get(row.get("kind") or "", "JOUR"))]
    if row.get("title"):
        lines.append(_line("TI", row["title"]))
    lines += [_line("AU", a) for a in row.get("authors") or []]
    for tag, key in (
        ("AB", "abstract"),
        ("JO", "journal"),
        ("PY", "year"),
        ("VL", "volume"),
        ("IS", "issue"),
        ("DO", "doi"),
        ("LA", "language"),
    ):
        if row.get(key):
            lines.append(_line(tag, row[key]))
    if row.get("pages"):
        start, end = page_range(str(row["pages"]))
        lines.append(_line("SP", start))
        if end:
            lines.append(_line("EP", end))
    lines.append(_line("AN", f"PMID:{row['pmid']}"))
    lines += [_line("KW", k) for k in row.get("keywords") or []]
    lines += [_line("MH", m) for m in row.get("mesh_terms") or []]
    lines += [_line("M3", t) for t in (row.get("publication_types") or [])[:1]]
    lines.append(_line("UR", row.get("url") or f"https://pubmed.ncbi.nlm.nih.gov/{row['pmid']}/"))
    lines += _notes(row)
    lines.append("ER  - \r\n\r\n")
    return "".join(lines)


def _notes(row: dict[str, Any]) -> list[str]:
    notes = [f"livescreen status: {row.get('status')}"]
    if row.get("nct_ids"):
        notes.append(f"registry: {', '.join(row['nct_ids'])}")
    for d in row.get("decisions") or []:
        reasons = f" ({', '.join(d['reasons'])})" if d.get("reasons") else ""
        note = f": {d['note']}" if d.get("note") else ""
        notes.append(f"{d['reviewer']}: {d['decision']}{reasons}{note}")
    if row.get("resolution"):
        r = row["resolution"]
        note = f": {r['note']}" if r.get("note") else ""
        notes.append(f"resolved by {r['resolver']}: {r['decision']}{note}")
    if row.get("machine_decision"):
        notes.append(f"machine: {row['machine_decision']} (p_include {row.get('p_include')})")
    for name, v in (row.get("criteria") or {}).items():
        reason = f": {v['reason']}" if v.get("reason") else ""
        notes.append(f"criterion {name}: {v.get('verdict')}{reason}")
    return [_line("N1", n) for n in notes]


def write(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield entry(row)
