"""Tables of imports (files of records from other tools) and of duplicate groups.

An import run keeps where its records came from (file, format, content hash) and the
records it could not read, so a report can be shown again and the same file run twice
is recognised. Duplicate groups are never deleted: a wrong grouping is undone by
marking the member ``split``, which also stops the next deduplication regrouping it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.db.models import _json, cascading_key, timestamp

PRIMARY, DUPLICATE, SPLIT = "primary", "duplicate", "split"  # DuplicateMember.role


class ImportRun(SQLModel, table=True):
    """One file imported into one review, with its counts and its unreadable records."""

    __tablename__ = "import_runs"
    __table_args__ = (sa.Index("ix_import_runs_review_hash", "review_id", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    file_name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    format: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    content_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    state: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # running, succeeded
    read: int = 0  # records read from the file, good or bad
    imported: int = 0  # good records stored (new + updated + unchanged + duplicates)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # already known from another source, or repeated within the file
    bad: int = 0
    problems: list[dict[str, Any]] = _json(default=[])  # {"where": "line 12", "problem": ...}
    created_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)


class ImportRecord(SQLModel, table=True):
    """Where an imported record came from: the run and its place in the file."""

    __tablename__ = "import_records"

    import_id: int = cascading_key("import_runs", primary_key=True)
    record_id: int = cascading_key("records", primary_key=True)
    row: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))  # "line 12", "record 3"


class DuplicateGroup(SQLModel, table=True):
    """Records of one review that are the same study report; one of them is the primary."""

    __tablename__ = "duplicate_groups"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    primary_record_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class DuplicateMember(SQLModel, table=True):
    """A record's place in a group: ``primary``, ``duplicate`` (not queued) or ``split``."""

    __tablename__ = "duplicate_members"
    __table_args__ = (
        sa.Index("ix_duplicate_members_review_role", "review_id", "role", "record_id"),
    )

    group_id: int = cascading_key("duplicate_groups", primary_key=True)
    record_id: int = cascading_key("records", primary_key=True)
    review_id: int = cascading_key("reviews")
    role: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))  # pmid, doi, fuzzy
    score: float = 100.0
    created_at: datetime = timestamp()
