"""Registry sweeps (one row per ClinicalTrials.gov sweep of a review) and the links from
registrations to the review's records that cite their NCT id.

The row is the sweep's account (counts, the studies it could not read, its error) and
its high-water mark: ``high_water`` is the newest ``LastUpdatePostDate`` a succeeded
sweep stored, so the next sweep of the same query asks the registry only for studies
updated since. ``query_hash`` ties the mark to the query it was reached with: a review
whose registry query changed starts again from nothing rather than missing old studies.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.db.models import _json, cascading_key, timestamp


class RegistrySweep(SQLModel, table=True):
    __tablename__ = "registry_sweeps"
    __table_args__ = (sa.Index("ix_registry_sweeps_review", "review_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    state: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # running, succeeded
    query_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    since: date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    high_water: date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    pages: int = 0
    requests: int = 0
    found: int = 0  # studies the registry sent, good or bad
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    screened: int = 0
    alerts: int = 0  # machine-include alerts raised for new or revised registrations
    problems: list[dict[str, Any]] = _json(default=[])  # {"where": "NCT...", "problem": ...}
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    started_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)


class RegistrationLink(SQLModel, table=True):
    """A record of the review (a PubMed or imported report) that cites a registration's NCT id.

    A link, not a duplicate: a trial's publications and its registration are different
    reports of one study, so both stay in the queue and each is shown with the other.
    """

    __tablename__ = "registration_links"
    __table_args__ = (sa.Index("ix_registration_links_record", "review_id", "record_id"),)

    review_id: int = cascading_key("reviews", primary_key=True)
    registration_id: int = cascading_key("records", primary_key=True)
    record_id: int = cascading_key("records", primary_key=True)
    nct_id: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    created_at: datetime = timestamp()
