"""Tables of the sweep and screening side (the reviewer side lives in ``reviewing.py``).

Alembic owns the schema (``services/db/migrations``); these classes must match
it, which ``tests/db/test_migrations.py`` checks. Natural keys are unique in the
database so that running any job twice cannot create duplicates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

UNSCREENED = -1.0  # queue priority of a record the machine has not screened


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column; required ones default to now (UTC)."""
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index),
    )


def cascading_key(table: str, *, primary_key: bool = False) -> Any:
    """A required reference to ``table.id``; rows go when the row they refer to goes."""
    return Field(
        sa_column=sa.Column(
            sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
            primary_key=primary_key,
            nullable=False,
        )
    )


def _json(default: Any = None) -> Any:
    return Field(
        default_factory=(lambda: default) if default is not None else None,
        sa_column=sa.Column(sa.JSON, nullable=default is None),
    )


class Review(SQLModel, table=True):
    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    query: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    protocol_version: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class Record(SQLModel, table=True):
    """One PubMed record, shared by every review whose query finds it."""

    __tablename__ = "records"

    id: int | None = Field(default=None, primary_key=True)
    pmid: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, unique=True))
    version: int = Field(default=1)
    title: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    abstract: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    journal: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    year: int | None = Field(default=None)
    doi: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    data: dict[str, Any] = _json(default={})
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    deleted: bool = Field(default=False)
    retracted: bool = Field(default=False)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class RecordVersion(SQLModel, table=True):
    """Every distinct content a record has had, so a revision never erases what was screened."""

    __tablename__ = "record_versions"
    __table_args__ = (sa.UniqueConstraint("record_id", "content_hash", name="uq_record_version"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = cascading_key("records")
    version: int
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    data: dict[str, Any] = _json(default={})
    sweep_id: int | None = Field(default=None)
    created_at: datetime = timestamp()


class Sweep(SQLModel, table=True):
    """One run of a review's PubMed search; its row is how failures become visible."""

    __tablename__ = "sweeps"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    state: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, index=True))
    full: bool = Field(default=False)
    mindate: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    maxdate: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    found: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    missing: int = 0
    quarantined: int = 0
    given_up: int = 0  # gaps this sweep tried for the last time (see RecordGap)
    recovered: int = 0  # gaps of earlier sweeps this sweep stored at last
    screened: int = 0
    unscreened: int = 0  # the review's records still without a current screening at the end
    requests: int = 0
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    screen_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    owner: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    started_at: datetime = timestamp()
    heartbeat_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)


class ReviewRecord(SQLModel, table=True):
    """Membership of a record in a review; ``last_sweep_id`` lets an interrupted sweep resume.

    ``priority`` is the current machine ``p_include`` (UNSCREENED, below any probability,
    before screening), kept here so the reviewer queue is one index scan instead of a
    join and sort over all the review's records. ``conflict_at`` makes a disagreement
    stick until a resolver settles it.
    """

    __tablename__ = "review_records"
    __table_args__ = (
        sa.Index(
            "ix_review_records_queue_order",
            "review_id",
            "priority",
            "added_at",
            "record_id",
        ),
        sa.Index("ix_review_records_newest", "review_id", "added_at", "record_id"),
    )

    review_id: int = cascading_key("reviews", primary_key=True)
    record_id: int = cascading_key("records", primary_key=True)
    first_sweep_id: int | None = Field(default=None)
    last_sweep_id: int | None = Field(default=None, index=True)
    priority: float = Field(
        default=-1.0, sa_column=sa.Column(sa.Float, nullable=False, server_default="-1")
    )
    added_at: datetime = timestamp()
    # When its required decisions first disagreed: from then on only a resolution settles it.
    conflict_at: datetime | None = timestamp(nullable=True)
    # The model version that set ``priority`` ("rules" for the rules' p_include): claims and
    # decisions copy it, so every ordering a reviewer saw can be traced to its model.
    ranked_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(24), nullable=True))


class SweepProblem(SQLModel, table=True):
    """A PMID a sweep could not store: missing from efetch, or quarantined as unparseable.

    ``xml`` is a record the parser read but could not use; ``raw`` is the exact efetch
    body of a record that broke the XML itself (kept as bytes: it may not even decode).
    """

    __tablename__ = "sweep_problems"

    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int = cascading_key("sweeps")
    pmid: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    xml: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    raw: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    created_at: datetime = timestamp()


class RecordGap(SQLModel, table=True):
    """A PMID a review should hold but does not: listed by esearch, never stored.

    One row per review and PMID while the gap lasts (it is deleted once the record is
    stored); ``SweepProblem`` keeps each sweep's own account. Later sweeps ask for an
    ``open`` gap again until ``attempts`` reaches the limit, then it is ``given_up``:
    still listed, asked for again only by ``livescreen sweep --retry-gaps``.
    """

    __tablename__ = "record_gaps"
    __table_args__ = (sa.UniqueConstraint("review_id", "pmid", name="uq_record_gap"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    pmid: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # missing, quarantined
    state: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # open, given_up
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    attempts: int = 1
    first_sweep_id: int | None = Field(default=None)
    last_sweep_id: int | None = Field(default=None)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class Screening(SQLModel, table=True):
    """The machine's verdicts on one record under one version of a review's protocol."""

    __tablename__ = "screenings"
    __table_args__ = (
        sa.UniqueConstraint(
            "review_id", "record_id", "protocol_version", "content_hash", name="uq_screening"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    record_id: int = cascading_key("records")
    protocol_version: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    decision: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    p_include: float
    criteria: dict[str, Any] = _json(default={})
    created_at: datetime = timestamp()
