"""The alert payload: one event about one record, as every channel receives it.

The later outbox fills these from its rows; the channels only read them.  The
JSON form is the webhook body, so its field names are a public contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import quote

from classifiers.types import CriterionResult
from services.settings import Settings

AlertEvent = Literal["machine_include", "human_include", "retraction"]
EVENTS: tuple[str, ...] = get_args(AlertEvent)

EVENT_TITLES: dict[str, str] = {
    "machine_include": "Machine screening: include",
    "human_include": "Included by reviewers",
    "retraction": "Retraction or correction of an included record",
}


@dataclass(frozen=True, slots=True)
class AlertPayload:
    """One alert.

    ``alert_id`` is the outbox's stable id (the feed's entry id derives from
    it); ``record`` holds the interchange fields (``Record.to_export()``);
    ``decision`` is the machine's or the reviewers' decision that raised the
    event; ``note`` carries event details such as "RetractionIn PMID 123".
    """

    alert_id: str
    event: AlertEvent
    review_slug: str
    record_id: int
    record: Mapping[str, Any]
    record_url: str
    decision: str
    p_include: float | None
    criteria: Mapping[str, CriterionResult]
    raised_at: datetime
    note: str = ""

    def __post_init__(self) -> None:
        if not self.alert_id:
            raise ValueError("alert payload: 'alert_id' is empty")
        if self.event not in EVENTS:
            raise ValueError(
                f"alert payload {self.alert_id}: unknown event {self.event!r}; "
                f"expected one of {', '.join(EVENTS)}"
            )
        if self.raised_at.tzinfo is None:
            raise ValueError(f"alert payload {self.alert_id}: 'raised_at' must be timezone-aware")
        if self.p_include is not None and not 0.0 <= self.p_include <= 1.0:
            raise ValueError(
                f"alert payload {self.alert_id}: 'p_include' must be in [0, 1], "
                f"got {self.p_include}"
            )

    @property
    def title(self) -> str:
        return str(self.record.get("title") or "(no title)")

    @property
    def pmid(self) -> str:
        return str(self.record.get("pmid") or "")

    def verdict_line(self) -> str:
        """Each criterion's verdict on one line, e.g. ``substance: met; design: unclear``."""
        if not self.criteria:
            return "no criteria verdicts"
        return "; ".join(f"{name}: {result.verdict}" for name, result in self.criteria.items())

    def to_json(self) -> dict[str, Any]:
        """The webhook body (before serialisation); keys are stable."""
        return {
            "alert_id": self.alert_id,
            "event": self.event,
            "review": self.review_slug,
            "record_id": self.record_id,
            "record_url": self.record_url,
            "record": dict(self.record),
            "decision": self.decision,
            "p_include": self.p_include,
            "criteria": {name: result.to_json() for name, result in self.criteria.items()},
            "raised_at": self.raised_at.isoformat(),
            "note": self.note,
        }


def rank(alerts: list[AlertPayload] | tuple[AlertPayload, ...]) -> list[AlertPayload]:
    """Most likely includes first (unknown ``p_include`` last), then by PMID for a stable order."""
    return sorted(
        alerts,
        key=lambda a: (a.p_include is None, -(a.p_include or 0.0), a.pmid, a.alert_id),
    )


def link_base(settings: Settings) -> str:
    """Where links in alerts point: LIVESCREEN_PUBLIC_URL, else the address served on."""
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def record_url(base_url: str, review_slug: str, record_id: int) -> str:
    """The record's page in the web UI (``/reviews/{slug}/records/{id}``)."""
    return f"{base_url.rstrip('/')}/reviews/{quote(review_slug, safe='')}/records/{record_id}"
