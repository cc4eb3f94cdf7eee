"""RIS, the format reference managers import; decisions go into notes (N1)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def _line(tag: str, value: Any) -> str:
    text = " ".join(str(value).split())  # RIS is line-based: no newlines inside a value
    return f"{tag}  - {text}\r\n"


def entry(row: dict[str, Any]) -> str:
    lines = [_line("TY", "JOUR")]
    if row.get("title"):
        lines.append(_line("TI", row["title"]))
    lines += [_line("AU", a) for a in row.get("authors") or []]
    for tag, key in (("AB", "abstract"), ("JO", "journal"), ("PY", "year"), ("DO", "doi")):
        if row.get(key):
            lines.append(_line(tag, row[key]))
    lines.append(_line("AN", f"PMID:{row['pmid']}"))
    lines += [_line("KW", k) for k in (row.get("keywords") or []) + (row.get("mesh_terms") or [])]
    lines.append(_line("UR", row.get("url") or f"https://pubmed.ncbi.nlm.nih.gov/{row['pmid']}/"))
    lines.append(_line("N1", f"livescreen status: {row.get('status')}"))
    for d in row.get("decisions") or []:
        reasons = f" ({', '.join(d['reasons'])})" if d.get("reasons") else ""
        lines.append(
            _line("N1", f"{d['reviewer']}: {d['decision']}{reasons} {d.get('note') or ''}")
        )
    if row.get("resolution"):
        r = row["resolution"]
        lines.append(
            _line("N1", f"resolved by {r['resolver']}: {r['decision']} {r.get('note') or ''}")
        )
    lines.append("ER  - \r\n\r\n")
    return "".join(lines)


def write(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield entry(row)
