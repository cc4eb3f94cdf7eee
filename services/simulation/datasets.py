"""Labelled screening datasets from CSV files (title, abstract, a label column).

The label column is ``label_included`` or ``included`` with values 0/1 (also
``yes``/``no``, ``true``/``false``, ``include``/``exclude``). ``keywords`` is used
when present (split on ``;``); other columns are ignored. Every problem is a
:class:`DatasetError` with one line naming the file, so the CLI prints it as is.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from classifiers.ranking.features import RecordText

LABEL_COLUMNS = ("label_included", "included")
TRUE = {"1", "yes", "y", "true", "include", "included"}
FALSE = {"0", "no", "n", "false", "exclude", "excluded"}


class DatasetError(ValueError):
    """A dataset that cannot be simulated; the message is one line naming the file."""


@dataclass(slots=True)
class Dataset:
    name: str
    records: list[RecordText]
    labels: list[int]

    @property
    def includes(self) -> int:
        return sum(self.labels)


def read_csv_dataset(path: str | Path) -> Dataset:
    """Read a labelled CSV; raises :class:`DatasetError` on anything unusable."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.DictReader(handle)
            columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
            missing = [c for c in ("title", "abstract") if c not in columns]
            label_key = next((columns[c] for c in LABEL_COLUMNS if c in columns), None)
            if label_key is None:
                missing.append("label_included (or included)")
            if missing:
                raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}")
            records: list[RecordText] = []
            labels: list[int] = []
            for line, row in enumerate(reader, start=2):
                raw = (row.get(label_key) or "").strip().lower()
                if raw in TRUE:
                    labels.append(1)
                elif raw in FALSE:
                    labels.append(0)
                else:
                    raise DatasetError(
                        f"{path}: line {line}: label {raw!r} is not 0/1 (column {label_key})"
                    )
                keywords = (row.get(columns["keywords"]) or "") if "keywords" in columns else ""
                records.append(
                    RecordText(
                        title=row.get(columns["title"]) or "",
                        abstract=row.get(columns["abstract"]) or "",
                        keywords=tuple(k.strip() for k in keywords.split(";") if k.strip()),
                    )
                )
    except (csv.Error, UnicodeError, OSError) as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})") from None
    if not records:
        raise DatasetError(f"{path}: no records")
    if not any(labels):
        raise DatasetError(f"{path}: no included records (label column {label_key} is all 0)")
    return Dataset(name=path.stem, records=records, labels=labels)
