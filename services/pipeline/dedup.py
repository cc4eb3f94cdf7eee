"""Duplicate groups of a review in the database: found by ``classifiers.dedup``, never deleted.

Each group has one primary, the record reviewers screen; the other members are kept with
role ``duplicate`` and left out of the queue. A wrong group is undone by ``split_record``,
which marks the member ``split``: the row stays, so the next deduplication does not put
the record back into that group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from classifiers.dedup import Item, Match, choose_primary, find_duplicates, group
from services.db.imports import DUPLICATE, PRIMARY, SPLIT, DuplicateGroup, DuplicateMember
from services.db.models import Record, ReviewRecord, utcnow
from services.imports.items import PMID_PATTERN


class DuplicateError(ValueError):
    """A group or member named by a user does not exist; the message says which."""


@dataclass
class DedupOutcome:
    groups: int = 0  # groups created
    added: int = 0  # records newly marked duplicate of a primary
    pairs: int = 0  # pairs found this run (exact and fuzzy)


@dataclass
class GroupView:
    id: int
    primary_record_id: int
    members: list[dict[str, Any]] = field(default_factory=list)


def review_items(session: Session, review_id: int, page: int = 5000) -> Iterator[Item]:
    """What deduplication reads of each of the review's records, streamed in id order."""
    last = 0
    while True:
        rows = session.execute(
            sa.select(
                col(Record.id),
                col(Record.pmid),
                col(Record.doi),
                col(Record.title),
                col(Record.year),
                col(Record.abstract).is_not(None),
                col(Record.data)[("authors", 0)].as_string(),  # not the whole JSON document
            )
            .join(ReviewRecord, col(ReviewRecord.record_id) == col(Record.id))
            .where(col(ReviewRecord.review_id) == review_id, col(Record.id) > last)
            .where(col(Record.deleted).is_(False))
            # A trial registration (keyed by its NCT id) is never a duplicate of a paper,
            # however alike the titles: it is linked to the papers citing it instead.
            .where(col(Record.pmid).not_like("NCT%"))
            .order_by(col(Record.id))
            .limit(page)
        ).all()
        if not rows:
            return
        for record_id, key, doi, title, year, has_abstract, first_author in rows:
            yield Item(
                id=record_id,
                pmid=key if PMID_PATTERN.match(key) else None,  # "doi:..."/"ref:..." keys aren't
                doi=doi,
                title=title or "",
                year=year,
                authors=(first_author,) if first_author else (),
                has_abstract=bool(has_abstract),
            )
        last = rows[-1][0]


def deduplicate_review(*, session: Session, review_id: int) -> DedupOutcome:
    """Find the review's duplicates and record new ones; existing groups only ever grow."""
    items = list(review_items(session, review_id))
    by_id = {item.id: item for item in items}
    matches = find_duplicates(items)
    outcome = DedupOutcome(pairs=len(matches))
    reasons = _reasons(matches)
    members = session.exec(
        select(DuplicateMember).where(col(DuplicateMember.review_id) == review_id)
    ).all()
    active = {m.record_id: m.group_id for m in members if m.role != SPLIT}
    split_from = {(m.group_id, m.record_id) for m in members if m.role == SPLIT}
    now = utcnow()
    for found in group(matches, by_id):
        existing = sorted({active[r] for r in found if r in active})
        primary_id: int | None = None
        if existing:
            group_id = existing[0]
        else:
            primary = choose_primary(by_id[r] for r in found)
            made = DuplicateGroup(review_id=review_id, primary_record_id=primary)
            session.add(made)
            session.flush()
            assert made.id is not None
            group_id, primary_id = made.id, primary
            outcome.groups += 1
        for record_id in sorted(found):
            if record_id in active or (group_id, record_id) in split_from:
                continue
            is_primary = record_id == primary_id
            reason, score = reasons.get(record_id, ("fuzzy", 0.0))
            session.add(
                DuplicateMember(
                    group_id=group_id,
                    record_id=record_id,
                    review_id=review_id,
                    role=PRIMARY if is_primary else DUPLICATE,
                    reason=reason,
                    score=score,
                    created_at=now,
                )
            )
            active[record_id] = group_id
            outcome.added += 0 if is_primary else 1
    session.flush()
    return outcome


def _reasons(matches: list[Match]) -> dict[int, tuple[str, float]]:
    """Why each record was matched (the first, strongest, match it took part in)."""
    found: dict[int, tuple[str, float]] = {}
    for match in matches:
        for record_id in (match.a, match.b):
            found.setdefault(record_id, (match.reason, match.score))
    return found


def list_groups(*, session: Session, review_id: int) -> list[GroupView]:
    groups = session.exec(
        select(DuplicateGroup)
        .where(col(DuplicateGroup.review_id) == review_id)
        .order_by(col(DuplicateGroup.id))
    ).all()
    views = {g.id: GroupView(id=g.id or 0, primary_record_id=g.primary_record_id) for g in groups}
    rows = session.execute(
        sa.select(DuplicateMember, col(Record.pmid), col(Record.title))
        .join(Record, col(Record.id) == col(DuplicateMember.record_id))
        .where(col(DuplicateMember.review_id) == review_id)
        .order_by(col(DuplicateMember.group_id), col(DuplicateMember.record_id))
    ).all()
    for member, key, title in rows:
        views[member.group_id].members.append(
            {
                "record_id": member.record_id,
                "key": key,
                "title": title,
                "role": member.role,
                "reason": member.reason,
                "score": round(member.score, 1),
            }
        )
    return list(views.values())


def split_record(*, session: Session, review_id: int, group_id: int, record_id: int) -> None:
    """Take a record out of a wrong group; if it was the primary, another member takes over."""
    member = session.get(DuplicateMember, (group_id, record_id))
    if member is None or member.review_id != review_id:
        raise DuplicateError(f"record {record_id} is not in duplicate group {group_id}")
    if member.role == SPLIT:
        return
    was_primary = member.role == PRIMARY
    member.role = SPLIT
    session.add(member)
    if was_primary:
        rest = session.exec(
            select(DuplicateMember)
            .where(col(DuplicateMember.group_id) == group_id, col(DuplicateMember.role) != SPLIT)
            .order_by(col(DuplicateMember.record_id))
        ).all()
        head = next((m for m in rest if m.record_id != record_id), None)
        duplicate_group = session.get(DuplicateGroup, group_id)
        assert duplicate_group is not None
        if head is not None:
            head.role = PRIMARY
            session.add(head)
            duplicate_group.primary_record_id = head.record_id
        duplicate_group.updated_at = utcnow()
        session.add(duplicate_group)
    session.flush()
