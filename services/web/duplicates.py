"""What the record and screening pages show of a record's duplicate group.

Deduplication keeps every copy of a study report and queues only the group's primary, so
a reviewer screening the primary has to see the other copies (which source found them,
their titles and ids) to notice a wrong grouping; a duplicate's own page has to say which
record stands for it. Read-only: splitting is ``services.pipeline.dedup.split_record``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.imports import PRIMARY, SPLIT, DuplicateMember, ImportRecord, ImportRun
from services.db.models import Record, ReviewRecord
from services.db.reviewing import User
from services.imports.items import PMID_PATTERN
from services.registry.parse import is_registration
from services.web.auth import has_role


@dataclass
class DuplicateView:
    """The group as one record's page shows it: its role and the group's other members."""

    group_id: int
    role: str  # "primary" or "duplicate": the role of the record whose page this is
    primary: dict[str, Any] | None = None  # for a duplicate's page: the record it stands for
    members: list[dict[str, Any]] = field(default_factory=list)  # for the primary's page


def key_label(key: str) -> str | None:
    """The record's key as an id a person can look up (PMID, NCT id); None for the hashed
    keys ("doi:...", "ref:...") an import gives records without a PMID, which mean
    nothing outside this database."""
    if PMID_PATTERN.match(key):
        return f"PMID {key}"
    return key if is_registration(key) else None


def record_sources(
    *, session: Session, review_id: int, record_ids: list[int]
) -> dict[int, list[str]]:
    """Where each record came from in this review: PubMed (a sweep reached it),
    ClinicalTrials.gov (a registration) and each imported file that held it."""
    found: dict[int, list[str]] = {r: [] for r in record_ids}
    if not record_ids:
        return found
    rows = session.execute(
        sa.select(
            col(ReviewRecord.record_id),
            col(Record.pmid),
            sa.or_(
                col(ReviewRecord.first_sweep_id).is_not(None),
                col(ReviewRecord.last_sweep_id).is_not(None),
            ),
        )
        .join(Record, col(Record.id) == col(ReviewRecord.record_id))
        .where(col(ReviewRecord.review_id) == review_id)
        .where(col(ReviewRecord.record_id).in_(record_ids))
    ).all()
    for record_id, key, swept in rows:
        if is_registration(key):
            found[record_id].append("ClinicalTrials.gov")
        elif swept:
            found[record_id].append("PubMed")
    imported = session.execute(
        sa.select(col(ImportRecord.record_id), col(ImportRun.file_name), col(ImportRun.format))
        .join(ImportRun, col(ImportRun.id) == col(ImportRecord.import_id))
        .where(col(ImportRun.review_id) == review_id)
        .where(col(ImportRecord.record_id).in_(record_ids))
        .order_by(col(ImportRun.id))
    ).all()
    for record_id, file_name, fmt in imported:
        label = f"{file_name} ({fmt})"
        if label not in found[record_id]:
            found[record_id].append(label)
    for labels in found.values():
        if not labels:
            labels.append("other")
    return found


def duplicate_view(*, session: Session, review_id: int, record_id: int) -> DuplicateView | None:
    """The active duplicate group of ``record_id`` in the review, else None (never grouped,
    or split out of its group)."""
    mine = session.execute(
        sa.select(DuplicateMember).where(
            col(DuplicateMember.review_id) == review_id,
            col(DuplicateMember.record_id) == record_id,
            col(DuplicateMember.role) != SPLIT,
        )
    ).scalar()
    if mine is None:
        return None
    rows = session.execute(
        sa.select(DuplicateMember, Record)
        .join(Record, col(Record.id) == col(DuplicateMember.record_id))
        .where(
            col(DuplicateMember.group_id) == mine.group_id,
            col(DuplicateMember.role) != SPLIT,
            col(DuplicateMember.record_id) != record_id,
        )
        .order_by(col(DuplicateMember.record_id))
    ).all()
    if not rows:  # every other member was split out: nothing left to show
        return None
    ids = [member.record_id for member, _ in rows]
    sources = record_sources(session=session, review_id=review_id, record_ids=ids)
    others = [_member_json(m, r, sources[m.record_id]) for m, r in rows]
    view = DuplicateView(group_id=mine.group_id, role=mine.role)
    if mine.role == PRIMARY:
        view.members = others
    else:
        view.primary = next((o for o in others if o["role"] == PRIMARY), None)
    return view


def _member_json(member: DuplicateMember, record: Record, sources: list[str]) -> dict[str, Any]:
    data = record.data or {}
    return {
        "record_id": member.record_id,
        "role": member.role,
        "reason": member.reason,
        "score": round(member.score, 1),
        "title": record.title or "(no title)",
        "year": record.year,
        "key": key_label(record.pmid),
        "doi": record.doi,
        "nct_ids": list(data.get("nct_ids") or []),
        "sources": sources,
    }


def page_context(
    *, session: Session, review_id: int, record_id: int, viewer: User, here: str
) -> dict[str, Any]:
    """The template variables of ``_partials/duplicates.html``: the group, whether the
    viewer may split (resolvers and admins) and the page the split form returns to."""
    return {
        "duplicates": duplicate_view(session=session, review_id=review_id, record_id=record_id),
        "can_split": has_role(viewer, "resolver"),
        "here": here,
    }
