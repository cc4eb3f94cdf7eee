"""The one builder of export rows, shared by the API, the pages and ``livescreen export``.

Every format is written from these rows, so a CSV, a RIS file and a JSONL file of the
same review say the same things: the interchange fields, the human status, each current
decision with its reviewer, reasons and note, the resolution, and the machine's decision,
``p_include`` and per-criterion verdicts with their reasons.

Blind reviews stay blind in exports: reviewers appear as stable blinded ids
(``reviewer-1`` in the order they first decided in the review; the exporting viewer's
own decisions keep their name), and a viewer under
:class:`~services.reviewing.status.Blinding` sees other people's decisions on a record
only once it is settled, as on the pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.dialect import aware
from services.db.models import Record, Screening
from services.db.reviewing import Decision, Resolution, User
from services.records import Record as Interchange
from services.reviewing.conflicts import decisions_of, party_records
from services.reviewing.status import Blinding, records_query

PAGE = 1000
SETTLED = ("included", "excluded")


@dataclass(frozen=True)
class ExportScope:
    """Which review, under which rules: the protocol's settings and the viewer's blinding."""

    review_id: int
    required: int
    protocol_version: str
    criteria: tuple[str, ...] = ()
    blind: bool = False
    blinding: Blinding | None = None
    # who exports: their own decisions carry their name even in a blind review
    viewer: tuple[int, str] | None = None


def reviewer_labels(*, session: Session, review_id: int, blind: bool) -> dict[int, str]:
    """Names of everyone who decided or resolved in the review; blinded ids when ``blind``."""
    first = (
        sa.select(col(Decision.user_id), sa.func.min(col(Decision.id)).label("first"))
        .where(col(Decision.review_id) == review_id)
        .group_by(col(Decision.user_id))
        .order_by(sa.text("first"))
    )
    order = [row[0] for row in session.execute(first).all()]
    if blind:
        return {uid: f"reviewer-{i}" for i, uid in enumerate(order, start=1)}
    names = {u.id: u.name for u in session.exec(select(User)) if u.id is not None}
    return {uid: names.get(uid, str(uid)) for uid in [*order, *names]}


def _iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat() if moment else None


def _machine(s: Screening | None) -> dict[str, Any]:
    if s is None:
        return {"machine_decision": None, "p_include": None, "criteria": {}}
    verdicts = {}
    for name, v in (s.criteria or {}).items():
        v = v if isinstance(v, dict) else {}
        verdicts[name] = {
            "verdict": v.get("verdict"),
            "confidence": v.get("confidence"),
            "reason": v.get("reason") or "",
            "evidence": [e.get("text") for e in v.get("evidence") or [] if isinstance(e, dict)],
        }
    return {"machine_decision": s.decision, "p_include": s.p_include, "criteria": verdicts}


def record_kind(data: dict[str, Any]) -> str:
    """What the record is, for RIS ``TY`` and readers: stored ``kind`` when the source gave
    one, else read from the book flag, publication types and registry ids."""
    if data.get("kind"):
        return str(data["kind"])
    types = {t.lower() for t in data.get("publication_types") or []}
    if data.get("is_book"):
        return "chapter" if data.get("book_title") or "chapter" in types else "book"
    if "preprint" in types:
        return "preprint"
    if str(data.get("pmid", "")).upper().startswith("NCT") or data.get("source") == "ctgov":
        return "registry"
    return "journal_article"


UNLABELLED = re.compile(r"(?im)^\s*unlabell?ed:\s*")


def clean_abstract(text: str) -> str:
    """The abstract without PubMed's ``UNLABELLED:`` placeholder label on any line."""
    return UNLABELLED.sub("", text)


def interchange(record: Record) -> dict[str, Any]:
    """The record's interchange fields plus what bibliographic formats need beside them."""
    data = dict(record.data or {})
    try:
        out = Interchange.from_json(data).to_export()
    except TypeError:  # a row stored by an older or foreign writer: keep what it has
        out = {"pmid": record.pmid, "title": record.title, "abstract": record.abstract}
    if out.get("abstract"):
        out["abstract"] = clean_abstract(out["abstract"])
    out["kind"] = record_kind(data)
    for key in ("volume", "issue", "pages"):
        out[key] = data.get(key) or None
    out["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{record.pmid}/"
    return out


def export_rows(*, session: Session, scope: ExportScope) -> Iterator[dict[str, Any]]:
    """Every record of the review, oldest id first, streamed in pages of ``PAGE``."""
    blinding = scope.blinding
    stmt = records_query(
        review_id=scope.review_id, required=scope.required, blinding=blinding
    ).order_by(Record.id)
    mine = (
        party_records(session=session, review_id=scope.review_id, user_id=blinding.user_id)
        if blinding is not None
        else set()
    )
    labels = reviewer_labels(session=session, review_id=scope.review_id, blind=scope.blind)
    if scope.viewer is not None:
        labels[scope.viewer[0]] = scope.viewer[1]
    offset = 0
    while True:
        rows = session.execute(stmt.offset(offset).limit(PAGE)).all()
        if not rows:
            return
        ids = [r[0].id for r in rows]
        decisions = decisions_of(
            session=session, review_id=scope.review_id, record_ids=ids, current_only=True
        )
        resolutions = {
            r.record_id: r
            for r in session.exec(
                select(Resolution).where(
                    Resolution.review_id == scope.review_id, col(Resolution.record_id).in_(ids)
                )
            )
        }
        screenings = _screenings(session=session, scope=scope, rows=[r[0] for r in rows])
        for record, status, _p in rows:
            shown = decisions[record.id]
            hidden = blinding is not None and (not blinding.exempt or record.id in mine)
            if hidden and status not in SETTLED:
                shown = [d for d in shown if d.user_id == blinding.user_id]  # type: ignore[union-attr]
            row = {"id": record.id, **interchange(record)}
            row["status"] = status
            row["withdrawn"] = record.deleted
            row["final_decision"] = {"included": "include", "excluded": "exclude"}.get(status)
            row["decisions"] = [
                {
                    "reviewer": labels.get(d.user_id, f"reviewer-{d.user_id}"),
                    "decision": d.decision,
                    "reasons": list(d.reasons or []),
                    "note": d.note or "",
                    "round": d.round,
                    "created_at": _iso(d.created_at),
                }
                for d in shown
            ]
            res = resolutions.get(record.id)
            row["resolution"] = (
                {
                    "resolver": labels.get(res.user_id, f"resolver-{res.user_id}"),
                    "decision": res.decision,
                    "note": res.note or "",
                    "created_at": _iso(res.created_at),
                }
                if res is not None
                else None
            )
            row.update(_machine(screenings.get(record.id)))
            yield row
        offset += PAGE


def _screenings(*, session: Session, scope: ExportScope, rows: list[Record]) -> dict[int, Any]:
    """The screening each record shows: its current content and protocol's, else the newest."""
    ids = [r.id for r in rows]
    found = session.exec(
        select(Screening)
        .where(Screening.review_id == scope.review_id, col(Screening.record_id).in_(ids))
        .order_by(col(Screening.created_at).desc(), col(Screening.id).desc())
    )
    hashes = {r.id: r.content_hash for r in rows}
    out: dict[int, Screening] = {}
    for s in found:
        current = (
            s.content_hash == hashes.get(s.record_id)
            and s.protocol_version == scope.protocol_version
        )
        if s.record_id not in out or (current and not _is_current(out[s.record_id], scope, hashes)):
            out[s.record_id] = s
    return out


def _is_current(s: Screening, scope: ExportScope, hashes: dict[Any, str]) -> bool:
    return (
        s.content_hash == hashes.get(s.record_id) and s.protocol_version == scope.protocol_version
    )
