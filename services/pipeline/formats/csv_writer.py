"""A flat CSV for spreadsheets: one row per record, decisions folded into one readable cell.

Cells are made safe to open: a spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) as a formula, so a hostile title
such as ``=HYPERLINK(...)`` would execute. Following OWASP's advice on CSV injection,
such a cell is written with a leading apostrophe, which spreadsheets show as plain text.
``neutralise=False`` writes every cell as it is, for tools that read CSV as data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

COLUMNS = (
    "pmid",
    "title",
    "journal",
    "year",
    "doi",
    "status",
    "final_decision",
    "machine_decision",
    "p_include",
    "decisions",
    "resolution",
    "url",
)


def _decisions(row: dict[str, Any]) -> str:
    parts = []
    for d in row.get("decisions") or []:
        reasons = f" [{', '.join(d['reasons'])}]" if d.get("reasons") else ""
        note = f" ({d['note']})" if d.get("note") else ""
        parts.append(f"{d['reviewer']}: {d['decision']}{reasons}{note}")
    return "; ".join(parts)


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    machine = row.get("machine") or {}
    resolution = row.get("resolution") or {}
    return {
        **{k: row.get(k) for k in ("pmid", "title", "journal", "year", "doi", "status", "url")},
        "final_decision": row.get("final_decision") or "",
        "machine_decision": machine.get("decision", ""),
        "p_include": machine.get("p_include", ""),
        "decisions": _decisions(row),
        "resolution": (f"{resolution['resolver']}: {resolution['decision']}" if resolution else ""),
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """The cell as a spreadsheet will show it as text, never run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(rows: Iterable[dict[str, Any]], *, neutralise: bool = True) -> Iterator[str]:
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    out.writeheader()
    for row in rows:
        flat = flatten(row)
        if neutralise:
            flat = {key: neutralised(value) for key, value in flat.items()}
        out.writerow(flat)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
