"""Records that PubMed revised after a human decided them, and the version they decided on.

A decision does not name the content it was made on, but every content a record has had is
a :class:`~services.db.models.RecordVersion` with the time it was stored, so the version a
reviewer saw is the newest one stored at or before their decision. When that version's
content is not the record's content now, the decision was made on text that has since
changed, and the reviewer should be told (and shown what changed): an include on an
abstract that no longer reports the dose is not the include they meant.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.dialect import aware
from services.db.models import Record, RecordVersion
from services.db.reviewing import Decision, Resolution


@dataclass(frozen=True)
class Revision:
    """A record revised since a human decision: who decided when, on which content."""

    record_id: int
    decided_at: datetime
    by_viewer: bool  # the decision is the viewer's own (else another's or a resolution)
    decided_version_id: int
    decided_title: str
    decided_abstract: str


@dataclass(frozen=True)
class _Stored:
    id: int
    content_hash: str
    at: datetime


def _decision_times(
    session: Session, review_id: int, ids: list[int], only_user: int | None
) -> dict[int, list[tuple[datetime, int | None]]]:
    """(time, user id) of each current decision and resolution per record."""
    decisions = sa.select(
        col(Decision.record_id), col(Decision.created_at), col(Decision.user_id)
    ).where(
        col(Decision.review_id) == review_id,
        col(Decision.record_id).in_(ids),
        col(Decision.is_current).is_(True),
    )
    if only_user is not None:
        decisions = decisions.where(col(Decision.user_id) == only_user)
    resolutions = sa.select(
        col(Resolution.record_id), col(Resolution.created_at), col(Resolution.user_id)
    ).where(col(Resolution.review_id) == review_id, col(Resolution.record_id).in_(ids))
    out: dict[int, list[tuple[datetime, int | None]]] = {}
    for stmt in (decisions, resolutions):
        for record_id, at, user_id in session.execute(stmt):
            out.setdefault(record_id, []).append((aware(at), user_id))
    return out


def _versions(session: Session, ids: list[int]) -> dict[int, list[_Stored]]:
    """Each record's stored versions, oldest first (without their content, which is big)."""
    rows = session.execute(
        sa.select(
            col(RecordVersion.record_id),
            col(RecordVersion.id),
            col(RecordVersion.content_hash),
            col(RecordVersion.created_at),
        )
        .where(col(RecordVersion.record_id).in_(ids))
        .order_by(col(RecordVersion.created_at), col(RecordVersion.id))
    )
    out: dict[int, list[_Stored]] = {}
    for record_id, version_id, digest, at in rows:
        out.setdefault(record_id, []).append(_Stored(version_id, digest, aware(at)))
    return out


def seen_at(versions: Sequence[_Stored], moment: datetime) -> _Stored | None:
    """The version current at ``moment``: the newest stored at or before it."""
    index = bisect_right([v.at for v in versions], moment)
    return versions[index - 1] if index else None


def revisions(
    *,
    session: Session,
    review_id: int,
    records: Sequence[Record],
    viewer: int | None = None,
    only_viewer: bool = False,
    with_content: bool = True,
) -> dict[int, Revision]:
    """The revised ones among ``records``, by record id.

    The decision taken as reference is the viewer's own when it is revised, else the
    earliest revised one (the longest out of date). ``only_viewer`` ignores other people's
    decisions, for a blinded reviewer who must not learn when they decided. Lists, which
    only flag, pass ``with_content=False`` to skip reading the decided versions' text.
    """
    current = {r.id: r.content_hash for r in records if r.id is not None}
    ids = list(current)
    if not ids:
        return {}
    times = _decision_times(session, review_id, ids, viewer if only_viewer else None)
    stored = _versions(session, [i for i in ids if i in times])
    found: dict[int, tuple[datetime, bool, _Stored]] = {}
    for record_id, decided in times.items():
        stale = []
        for at, user_id in decided:
            seen = seen_at(stored.get(record_id, []), at)
            if seen is not None and seen.content_hash != current[record_id]:
                stale.append((viewer is not None and user_id == viewer, at, seen))
        if stale:
            mine, at, seen = min(stale, key=lambda s: (not s[0], s[1]))
            found[record_id] = (at, mine, seen)
    wanted = [seen.id for _, _, seen in found.values()] if with_content else []
    content = _contents(session, wanted)
    return {
        record_id: Revision(
            record_id=record_id,
            decided_at=at,
            by_viewer=mine,
            decided_version_id=seen.id,
            decided_title=str(content.get(seen.id, {}).get("title") or ""),
            decided_abstract=str(content.get(seen.id, {}).get("abstract") or ""),
        )
        for record_id, (at, mine, seen) in found.items()
    }


def _contents(session: Session, version_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not version_ids:
        return {}
    rows = session.execute(
        sa.select(col(RecordVersion.id), col(RecordVersion.data)).where(
            col(RecordVersion.id).in_(version_ids)
        )
    )
    return {version_id: dict(data or {}) for version_id, data in rows}


def revised_in_review(
    *, session: Session, review_id: int, viewer: int | None = None, only_viewer: bool = False
) -> set[int]:
    """Ids of the review's records revised since a human decision (as :func:`revisions`
    judges them), for the "changed since decided" filter and count.

    Only a record with more than one stored version can have been revised, so those are
    found in SQL first and few records reach the comparison in Python."""
    decided = sa.union(
        sa.select(col(Decision.record_id)).where(
            col(Decision.review_id) == review_id, col(Decision.is_current).is_(True)
        ),
        sa.select(col(Resolution.record_id)).where(col(Resolution.review_id) == review_id),
    ).subquery()
    several = (
        sa.select(col(RecordVersion.record_id))
        .where(col(RecordVersion.record_id).in_(sa.select(decided.c.record_id)))
        .group_by(col(RecordVersion.record_id))
        .having(sa.func.count() > 1)
    )
    candidates = list(
        session.execute(sa.select(Record).where(col(Record.id).in_(several))).scalars()
    )
    found = revisions(
        session=session,
        review_id=review_id,
        records=candidates,
        viewer=viewer,
        only_viewer=only_viewer,
        with_content=False,
    )
    return set(found)
