"""One JSON object per line: the lossless export."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def write(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n"
