"""One registry sweep of a review: ask ClinicalTrials.gov, store, screen, move the mark.

The registrations go through the same store path as imports and PubMed records
(``store_records``: the NCT id is the natural key, the content hash decides), so a
registration seen again unchanged is ``unchanged`` and one that changed status or gained
results is ``updated``, a new version kept beside the old. Changed records are screened
with the review's screener, batch by batch, like imported ones, and a new or revised
registration the machine finds eligible raises the living loop's alert once. At the end
the review's registrations are linked to its records that cite their NCT id (``links``).

The sweep is incremental: it starts from the high-water mark of the review's last
succeeded sweep *of the same query* (the newest ``LastUpdatePostDate`` it stored) and
asks only for studies updated on or after that day. A failed sweep records its error and
leaves the mark where it was, so the next one asks again for what it missed; each page
is committed, so what was stored before the failure stays stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from classifiers.screen import Screener
from services.alerts.events import raise_record_alerts
from services.db.models import Review, utcnow
from services.db.registry import RegistrySweep
from services.imports.items import Bad
from services.pipeline.screen import screen_pending
from services.pipeline.store import ensure_review, store_records
from services.protocols import ClinicalTrialsSpec, Protocol
from services.records import Record
from services.registry.client import ClinicalTrialsClient, StudiesQuery
from services.registry.links import link_registrations
from services.registry.parse import parse_studies
from services.reviewing.status import record_status

MAX_PROBLEMS = 10_000  # listed on the sweep's row; the count goes on past it
COUNTS = (
    "pages", "requests", "found", "new", "updated", "unchanged", "bad", "screened", "alerts",
)  # fmt: skip


class RegistryNotConfigured(LookupError):
    """The review's protocol has no ``[clinicaltrials]`` table: it has no registry sweep."""


@dataclass
class RegistryReport:
    """What one registry sweep did, as printed by ``livescreen registry sweep``."""

    sweep_id: int
    review: str
    since: date | None
    high_water: date | None
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    links: int = 0  # new links from registrations to records citing their NCT id

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "review": self.review,
            "since": self.since.isoformat() if self.since else None,
            "high_water": self.high_water.isoformat() if self.high_water else None,
            **{name: self.counts.get(name, 0) for name in COUNTS},
            "links": self.links,
            "problems": self.problems,
        }


def registry_spec(protocol: Protocol) -> ClinicalTrialsSpec:
    """The review's registry query, or a clear error naming the protocol file."""
    if protocol.clinicaltrials is None:
        raise RegistryNotConfigured(
            f"review {protocol.slug!r}: protocol file {protocol.source or '(unnamed)'} has no "
            "[clinicaltrials] table, so it has no ClinicalTrials.gov sweep"
        )
    return protocol.clinicaltrials


def query_hash(spec: ClinicalTrialsSpec) -> str:
    """What the high-water mark depends on: the search, not the page size or whitespace."""
    areas = ("term", "intervention", "condition")
    fields = {name: " ".join(getattr(spec, name).split()) for name in areas}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def last_mark(session: Session, *, review_id: int, digest: str) -> date | None:
    """The high-water mark of the review's newest succeeded sweep of this query."""
    row = session.exec(
        select(RegistrySweep)
        .where(
            col(RegistrySweep.review_id) == review_id,
            col(RegistrySweep.query_hash) == digest,
            col(RegistrySweep.state) == "succeeded",
        )
        .order_by(col(RegistrySweep.id).desc())
        .limit(1)
    ).first()
    return row.high_water if row is not None else None


@dataclass
class _Tally:
    """What a sweep has seen so far: counts, bad studies, the newest update, the keys."""

    high: date | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    problems: list[dict[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def take(self, studies: list[Any], number: int) -> list[Record]:
        """The page's readable studies as records; the others noted with their problem."""
        self.counts["pages"] += 1
        self.counts["found"] += len(studies)
        records: list[Record] = []
        for item in parse_studies(studies, where=f"page {number}"):
            if isinstance(item, Bad):
                self.counts["bad"] += 1
                if len(self.problems) < MAX_PROBLEMS:
                    self.problems.append({"where": item.row, "problem": item.problem})
                continue
            if item.record.pmid in self.seen:  # the registry moved it between pages
                continue
            self.seen.add(item.record.pmid)
            records.append(item.record)
            if item.last_update is not None and (self.high is None or item.last_update > self.high):
                self.high = item.last_update
        return records


def sweep_registry(
    *,
    sessions: sessionmaker[Session],
    protocol: Protocol,
    client: ClinicalTrialsClient,
    screener: Screener | None,
    full: bool = False,
) -> RegistryReport:
    """Sweep the review's registry query (only updates since the mark unless ``full``)."""
    spec = registry_spec(protocol)
    digest = query_hash(spec)
    with sessions() as session:
        review = ensure_review(session=session, protocol=protocol)
        assert review.id is not None
        since = None if full else last_mark(session, review_id=review.id, digest=digest)
        run = RegistrySweep(
            review_id=review.id, state="running", query_hash=digest, since=since, problems=[]
        )
        session.add(run)
        session.commit()
        assert run.id is not None
        tally = _Tally(high=since)
        requests_before = client.requests_made
        query = StudiesQuery(
            term=spec.term,
            intervention=spec.intervention,
            condition=spec.condition,
            updated_since=since,
        )
        try:
            for number, page in enumerate(client.pages(query, page_size=spec.page_size), 1):
                records = tally.take(page.studies, number)
                outcome = store_records(
                    session=session, records=records, review_id=review.id, sweep_id=None
                )
                for status in ("new", "updated", "unchanged"):
                    tally.counts[status] += outcome.counts[status]
                tally.counts["requests"] = client.requests_made - requests_before
                _save(run, tally, state="running")
                session.commit()
                if screener is not None and outcome.changed_ids:
                    _screen(session, review, protocol, screener, outcome.changed_ids, tally)
        except Exception as exc:
            session.rollback()
            tally.counts["requests"] = client.requests_made - requests_before
            _save(run, tally, state="failed")
            run.error = f"{exc.__class__.__name__}: {exc}"
            session.commit()
            raise
        links = link_registrations(session=session, review_id=review.id)
        tally.counts["requests"] = client.requests_made - requests_before
        _save(run, tally, state="succeeded")
        run.high_water = tally.high
        session.commit()
        return RegistryReport(
            sweep_id=run.id,
            review=protocol.slug,
            since=since,
            high_water=tally.high,
            counts=tally.counts,
            problems=tally.problems,
            links=links,
        )


def _screen(
    session: Session,
    review: Review,
    protocol: Protocol,
    screener: Screener,
    record_ids: list[int],
    tally: _Tally,
) -> None:
    """Screen a page's new and revised registrations, then raise their alerts."""
    screened = screen_pending(
        session=session, review=review, protocol=protocol, screener=screener, record_ids=record_ids
    )
    tally.counts["screened"] += screened.screened
    tally.counts["alerts"] += _raise_alerts(session, review, protocol, record_ids)
    session.commit()


def _raise_alerts(
    session: Session, review: Review, protocol: Protocol, record_ids: list[int]
) -> int:
    """The living loop's alerts, as for swept and imported records: a new or revised
    registration the machine finds eligible is announced once per content version."""
    review_id = review.id
    assert review_id is not None
    return raise_record_alerts(
        session=session,
        review=review,
        record_ids=record_ids,
        is_included=lambda record_id: (
            record_status(
                session=session,
                review_id=review_id,
                record_id=record_id,
                required=protocol.required_decisions,
            )
            == "included"
        ),
    )


def _save(run: RegistrySweep, tally: _Tally, *, state: str) -> None:
    for name in COUNTS:
        setattr(run, name, tally.counts[name])
    run.problems = list(tally.problems)  # a new list: the JSON column does not track mutation
    run.state = state
    if state != "running":
        run.finished_at = utcnow()
