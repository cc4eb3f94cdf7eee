"""A flat CSV for spreadsheets: one row per record, decisions folded into one readable cell."""

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


def write(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    out.writeheader()
    for row in rows:
        out.writerow(flatten(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
