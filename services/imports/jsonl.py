"""The JSONL interchange format (what ``livescreen export --format jsonl`` writes)."""

from __future__ import annotations

import json
from typing import TextIO

from services.imports.items import Bad, Good, Items, checked
from services.records import Record


def read_jsonl(text: TextIO) -> Items:
    for number, line in enumerate(text, start=1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        row = f"line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Bad(row, f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(data, dict):
            yield Bad(row, f"expected a JSON object, got {type(data).__name__}")
            continue
        data["pmid"] = str(data.get("pmid") or "")
        try:
            record = Record.from_json(data)
        except (TypeError, ValueError) as exc:
            yield Bad(row, f"not a record: {exc}")
            continue
        if record.year is not None and not isinstance(record.year, int):
            yield Bad(row, f"'year' must be a whole number, got {record.year!r}")
            continue
        item = checked(row, record)
        if isinstance(item, Good) and (data.get("decisions") or data.get("resolution")):
            item.history = {
                "decisions": data.get("decisions") or [],
                "resolution": data.get("resolution"),
            }
        yield item
