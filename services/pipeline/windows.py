"""Date windows for E-utilities searches (PubMed's inclusive YYYY/MM/DD mindate/maxdate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

EARLIEST = date(1781, 1, 1)  # older than any PubMed record
DATE_FORMAT = "%Y/%m/%d"


def parse_day(text: str) -> date:
    return datetime.strptime(text, DATE_FORMAT).date()


def format_day(day: date) -> str:
    return day.strftime(DATE_FORMAT)


@dataclass(frozen=True, slots=True)
class Window:
    """Inclusive range of days searched on one PubMed date field (edat, mdat or pdat)."""

    start: date
    end: date
    datetype: str = "edat"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def mindate(self) -> str:
        return format_day(self.start)

    @property
    def maxdate(self) -> str:
        return format_day(self.end)

    def split(self, parts: int = 2) -> list[Window]:
        """Consecutive windows covering this one; PubMed's 9,999 cap is beaten part by part."""
        if self.days < 2:
            raise ValueError(f"window {self} is a single day and cannot be split")
        parts = max(2, min(parts, self.days))
        windows: list[Window] = []
        start = self.start
        for index in range(1, parts + 1):
            end = self.start + timedelta(days=self.days * index // parts - 1)
            windows.append(Window(start, end, self.datetype))
            start = end + timedelta(days=1)
        return windows

    def __str__(self) -> str:
        return f"{self.datetype} {self.mindate}-{self.maxdate}"
