"""Screening of stored records with the review's criteria (the pure classifiers package).

A screening is stored per record, protocol version and record content, so a
changed protocol or a revised record is screened again and old verdicts stay.

No record can stall the pipeline: a record longer than ``ScreenLimits.max_chars``
(title + abstract) is screened on its first characters, one whose screening raises
or runs over ``ScreenLimits.seconds_per_record`` is stored ``uncertain``, and each
case says why under the criteria key ``_screening`` (not a valid criterion name, so it
never collides with one). Every batch is committed, so work done is never lost.

The budget is measured, not enforced by interruption: the criteria are pure code that
cannot be stopped cooperatively, and a worker process per record (the only way to
stop one from outside) would cost a fork or a pickled round trip per record on every
sweep, inside Celery workers that are themselves daemonic children. Instead the input
is bounded (truncation) and every criterion runs in linear time, so the longest
screening is bounded too; the measurement catches a regression of that promise and
hands the record to humans instead of trusting its verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from classifiers.screen import Screener
from services.db.models import Record, Review, ReviewRecord, Screening, utcnow
from services.protocols import Protocol
from services.records import EXPORT_FIELDS
from services.settings import Settings

LIST_FIELDS = ("publication_types", "mesh_terms", "keywords", "authors", "nct_ids")


def build_screener(protocol: Protocol) -> Screener:
    return Screener(protocol.build_criteria())


def check_record(record: Mapping[str, Any]) -> str | None:
    """Why a record in the interchange format cannot be screened, or None when it can.

    The message names the field, so a caller can report it with the record's line.
    """
    title, abstract = record.get("title"), record.get("abstract")
    if title is not None and not isinstance(title, str):
        return f"'title' must be a string, got {type(title).__name__}"
    if abstract is not None and not isinstance(abstract, str):
        return f"'abstract' must be a string or null, got {type(abstract).__name__}"
    if not ((title or "").strip() or (abstract or "").strip()):
        if title:
            return "'title' is blank (only whitespace) and there is no 'abstract'"
        return "record has neither 'title' nor 'abstract'"
    year = record.get("year")
    if year is not None and not _is_year(year):
        return f"'year' must be an integer, got {_shown(year)}"
    for name in LIST_FIELDS:
        value = record.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return f"'{name}' must be a list of strings"
    return None


def _is_year(value: object) -> bool:
    """An integer, or a string of one ("2019"), as JSONL exports of other tools write it."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().isdigit()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


NOTE_KEY = "_screening"
"""Criteria key of the screening's own note (truncated, failed, over budget)."""


@dataclass(frozen=True, slots=True)
class ScreenLimits:
    """Bounds on one record's screening (see the module docstring for why measured)."""

    max_chars: int = 100_000
    seconds_per_record: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ScreenLimits:
        return cls(
            max_chars=settings.screen_max_chars,
            seconds_per_record=settings.screen_seconds_per_record,
        )


@dataclass(slots=True)
class Verdicts:
    """One record's stored screening, and the problem to report for it (if any)."""

    decision: str
    p_include: float
    criteria: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def _note(reason: str) -> dict[str, Any]:
    return {"verdict": "unclear", "confidence": 0.0, "evidence": [], "reason": reason}


def truncated(data: Mapping[str, Any], max_chars: int) -> tuple[Mapping[str, Any], int]:
    """The record cut to ``max_chars`` of title + abstract (the title kept first), and its length.

    A prefix keeps every evidence offset valid against the stored, whole text.
    """
    title, abstract = _text(data.get("title")), _text(data.get("abstract"))
    total = len(title) + len(abstract)
    if total <= max_chars:
        return data, total
    out = dict(data)
    if len(title) >= max_chars:
        out["title"], out["abstract"] = title[:max_chars], None
    else:
        out["abstract"] = abstract[: max_chars - len(title)]
    return out, total


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def one_line(text: str) -> str:
    """The text on one line: a multi-line message keeps all of its parts, joined."""
    return " ".join(text.split())


def screen_one(
    screener: Screener,
    data: Mapping[str, Any],
    *,
    limits: ScreenLimits,
    clock: Callable[[], float] = time.perf_counter,
) -> Verdicts:
    """Screen one record within the limits; never raises for the record's sake."""
    text, total = truncated(data, limits.max_chars)
    started = clock()
    try:
        result = screener.screen(text)
    except Exception as exc:  # one record's fault is recorded on it, never the batch's
        reason = one_line(f"screening failed: {exc.__class__.__name__}: {exc}")
        return Verdicts("uncertain", 0.5, {NOTE_KEY: _note(reason)}, reason)
    elapsed = clock() - started
    criteria: dict[str, Any] = result.to_json()["criteria"]
    notes: list[str] = []
    decision, p_include, problem = result.decision, result.p_include, None
    if total > limits.max_chars:
        notes.append(
            f"screened on the first {limits.max_chars:,} of its {total:,} characters of "
            "title and abstract (LIVESCREEN_SCREEN_MAX_CHARS)"
        )
    if elapsed > limits.seconds_per_record:
        problem = (
            f"screening took {elapsed:.1f} s, over the budget of "
            f"{limits.seconds_per_record:g} s per record (LIVESCREEN_SCREEN_SECONDS_PER_RECORD); "
            f"recorded uncertain instead of {result.decision}"
        )
        notes.append(problem)
        decision, p_include = "uncertain", 0.5
    if notes:
        criteria[NOTE_KEY] = _note("; ".join(notes))
    return Verdicts(decision, p_include, criteria, problem)


@dataclass
class ScreenOutcome:
    """What a screening step did; a sweep stores it so unscreened records are never silent."""

    screened: int = 0
    unscreened: int = 0  # the review's records still without a current screening
    error: str | None = None


def _pending(review: Review, protocol: Protocol) -> Any:
    """Records of the review with no screening for this protocol version and content."""
    already = (
        sa.select(col(Screening.id))
        .where(
            col(Screening.review_id) == review.id,
            col(Screening.record_id) == col(Record.id),
            col(Screening.protocol_version) == protocol.version,
            col(Screening.content_hash) == col(Record.content_hash),
        )
        .exists()
    )
    return (
        sa.select(Record)
        .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
        .where(col(ReviewRecord.review_id) == review.id, ~already)
    )


def count_unscreened(*, session: Session, review: Review, protocol: Protocol) -> int:
    query = _pending(review, protocol).with_only_columns(sa.func.count())
    return int(session.execute(query).scalar_one())


def screen_pending(
    *,
    session: Session,
    review: Review,
    protocol: Protocol,
    screener: Screener,
    record_ids: Sequence[int] | None = None,
    batch_size: int = 500,
    limits: ScreenLimits | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> ScreenOutcome:
    """Screen the review's records that have no screening for this protocol and content yet.

    ``record_ids`` narrows it to those records (a sweep screens each batch it stores),
    and then ``unscreened`` is not counted. Each batch is committed. A record the
    screener cannot handle, or that runs over the time budget, is stored ``uncertain``
    with the reason and named in ``error``, and the records after it go on.
    """
    assert review.id is not None
    limits = limits or ScreenLimits()
    outcome = ScreenOutcome()
    problems: list[str] = []
    last_id = 0
    pending = _pending(review, protocol)
    version = protocol.version  # a hash of the criteria: once, not once per record
    if record_ids is not None:
        if not record_ids:
            return outcome
        pending = pending.where(col(Record.id).in_(list(record_ids)))
    while True:
        rows = pending_rows(session, pending, after_id=last_id, limit=batch_size)
        if not rows:
            break
        last_id = rows[-1][0]
        verdicts = [screen_one(screener, data, limits=limits, clock=clock) for *_, data in rows]
        problems += store_verdicts(
            session=session, review_id=review.id, version=version, rows=rows, verdicts=verdicts
        )
        session.commit()
        outcome.screened += len(rows)
    if record_ids is None:
        outcome.unscreened = count_unscreened(session=session, review=review, protocol=protocol)
    outcome.error = problems_summary(problems)
    return outcome


PendingRow = tuple[int, str, str, dict[str, Any]]
"""A record to screen: its id, PMID, content hash and interchange fields."""


def pending_rows(
    session: Session, pending: Any, *, after_id: int = 0, limit: int | None = None
) -> list[PendingRow]:
    """The next records of a ``pending`` query (``_pending``, maybe narrowed), by id."""
    query = (
        pending.with_only_columns(
            col(Record.id), col(Record.pmid), col(Record.content_hash), col(Record.data)
        )
        .where(col(Record.id) > after_id)
        .order_by(col(Record.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        (record_id, pmid, content_hash, {n: (stored or {}).get(n) for n in EXPORT_FIELDS})
        for record_id, pmid, content_hash, stored in session.execute(query).all()
    ]


def pending_for(
    *, session: Session, review: Review, protocol: Protocol, record_ids: Sequence[int]
) -> list[PendingRow]:
    """Those of ``record_ids`` still unscreened under the protocol, with what to screen."""
    if not record_ids:
        return []
    pending = _pending(review, protocol).where(col(Record.id).in_(list(record_ids)))
    return pending_rows(session, pending)


def store_verdicts(
    *,
    session: Session,
    review_id: int,
    version: str,
    rows: Sequence[PendingRow],
    verdicts: Sequence[Verdicts],
) -> list[str]:
    """Write the screenings of ``rows`` and their queue priorities (not committed); the
    problems to report, one per record recorded uncertain for its own sake."""
    now = utcnow()
    problems: list[str] = []
    priorities: list[dict[str, Any]] = []
    screenings: list[dict[str, Any]] = []
    for (record_id, pmid, content_hash, _), verdict in zip(rows, verdicts, strict=True):
        if verdict.problem:
            which = f"PMID {pmid}" if pmid else f"record {record_id}"
            problems.append(f"{which}: {verdict.problem}")
        priorities.append({"rid": record_id, "p": verdict.p_include})
        screenings.append(
            {
                "review_id": review_id,
                "record_id": record_id,
                "protocol_version": version,
                "content_hash": content_hash,
                "decision": verdict.decision,
                "p_include": verdict.p_include,
                "criteria": verdict.criteria,
                "created_at": now,
            }
        )
    if screenings:  # Core: one executemany per batch
        session.execute(SQLModel.metadata.tables["screenings"].insert(), screenings)
        set_priorities(session=session, review_id=review_id, priorities=priorities)
    return problems


def problems_summary(problems: Sequence[str]) -> str | None:
    """The one-line error a step reports for its records recorded uncertain, or None."""
    if not problems:
        return None
    shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
    return f"{len(problems)} record(s) recorded uncertain: {shown}"


def set_priorities(*, session: Session, review_id: int, priorities: list[dict[str, Any]]) -> None:
    """Copy the newest ``p_include`` (``rid``, ``p``) onto the queue's ordering column."""
    if not priorities:
        return
    table = SQLModel.metadata.tables["review_records"]  # Core, so executemany stays plain
    session.execute(
        table.update()
        .where(table.c.review_id == review_id, table.c.record_id == sa.bindparam("rid"))
        .values(priority=sa.bindparam("p")),
        priorities,
    )


def latest_screenings(
    *, session: Session, review: Review, protocol: Protocol, record_ids: list[int]
) -> dict[int, Screening]:
    """The current screening of each record (this protocol version, current content)."""
    if not record_ids:
        return {}
    rows = session.execute(
        sa.select(Screening)
        .join(Record, col(Record.id) == col(Screening.record_id))
        .where(
            col(Screening.review_id) == review.id,
            col(Screening.record_id).in_(record_ids),
            col(Screening.protocol_version) == protocol.version,
            col(Screening.content_hash) == col(Record.content_hash),
        )
    ).scalars()
    return {s.record_id: s for s in rows}
