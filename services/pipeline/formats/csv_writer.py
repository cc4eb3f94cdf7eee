"""A flat CSV for spreadsheets: one row per record, decisions folded into one readable cell,
and two columns per criterion (``<name>_verdict``, ``<name>_reason``).

Cells are made safe to open: a spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) as a formula, so a hostile title
such as ``=HYPERLINK(...)`` would execute. Following OWASP's advice on CSV injection,
such a cell is written with a leading apostrophe, which spreadsheets show as plain text.
``neutralise=False`` writes every cell as it is, for tools that read CSV as data.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

COLUMNS = (
    "pmid",
    "kind",
    "title",
    "authors",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "nct_ids",
    "publication_types",
    "mesh_terms",
    "keywords",
    "language",
    "abstract",
    "url",
    "status",
    "final_decision",
    "decisions",
    "resolution",
    "machine_decision",
    "p_include",
)
LISTS = ("authors", "nct_ids", "publication_types", "mesh_terms", "keywords")


def _decisions(row: dict[str, Any]) -> str:
    parts = []
    for d in row.get("decisions") or []:
        reasons = f" [{', '.join(d['reasons'])}]" if d.get("reasons") else ""
        note = f" ({d['note']})" if d.get("note") else ""
        parts.append(f"{d['reviewer']}: {d['decision']}{reasons}{note}")
    return "; ".join(parts)


def columns(criteria: Sequence[str]) -> list[str]:
    return [*COLUMNS, *(f"{c}_{part}" for c in criteria for part in ("verdict", "reason"))]


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    resolution = row.get("resolution") or {}
    flat: dict[str, Any] = {k: row.get(k) for k in COLUMNS}
    for key in LISTS:
        flat[key] = "; ".join(row.get(key) or [])
    note = f" ({resolution['note']})" if resolution.get("note") else ""
    flat.update(
        final_decision=row.get("final_decision") or "",
        machine_decision=row.get("machine_decision") or "",
        p_include="" if row.get("p_include") is None else row["p_include"],
        decisions=_decisions(row),
        resolution=(
            f"{resolution['resolver']}: {resolution['decision']}{note}" if resolution else ""
        ),
    )
    for name, verdict in (row.get("criteria") or {}).items():
        flat[f"{name}_verdict"] = verdict.get("verdict") or ""
        flat[f"{name}_reason"] = verdict.get("reason") or ""
    return flat


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """The cell as a spreadsheet will show it as text, never run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(
    rows: Iterable[dict[str, Any]], *, neutralise: bool = True, criteria: Sequence[str] = ()
) -> Iterator[str]:
    """CSV text in chunks; without ``criteria`` the columns follow the first row's criteria."""
    rows = iter(rows)
    first = next(rows, None)
    names = list(criteria) or list((first or {}).get("criteria") or {})
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=columns(names), extrasaction="ignore")
    out.writeheader()
    for row in itertools.chain([first] if first is not None else [], rows):
        flat = flatten(row)
        if neutralise:
            flat = {key: neutralised(value) for key, value in flat.items()}
        out.writerow(flat)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
