"""Rows for reviewer-side tests, written straight to the tables the sweep and screener fill."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from services.db.models import UNSCREENED, Record, Review, ReviewRecord, Screening, utcnow
from services.protocols import CriterionSpec, Protocol
from services.web.accounts import create_user

CRITERIA = ("psilocybin", "low_dose", "controlled", "primary_study")


def protocol(slug: str = "micro", *, screening: str = "single", blind: bool = True) -> Protocol:
    return Protocol(
        slug=slug,
        title=f"Review {slug}",
        query="psilocybin",
        screening=screening,  # type: ignore[arg-type]
        blind=blind,
        criteria=[CriterionSpec(name=n, kind="substance") for n in CRITERIA],
    )


def review(session: Session, proto: Protocol) -> Review:
    row = Review(
        slug=proto.slug, title=proto.title, query=proto.query, protocol_version=proto.version
    )
    session.add(row)
    session.flush()
    return row


def record(
    session: Session,
    rev: Review,
    pmid: str,
    *,
    title: str = "",
    abstract: str = "",
    age_days: int = 0,
    p_include: float | None = None,
    criteria: dict[str, Any] | None = None,
    doi: str | None = None,
    **data: Any,
) -> Record:
    """One record in ``rev``; ``p_include`` adds a machine screening; older records rank later."""
    title = title or f"Record {pmid}"
    digest = hashlib.sha256(f"{pmid}:{title}:{abstract}".encode()).hexdigest()
    payload = {
        "pmid": pmid,
        "title": title,
        "abstract": abstract,
        "publication_types": data.pop("publication_types", ["Journal Article"]),
        "mesh_terms": data.pop("mesh_terms", []),
        "keywords": data.pop("keywords", []),
        "authors": data.pop("authors", ["Doe J"]),
        **data,
    }
    row = Record(
        pmid=pmid,
        title=title,
        abstract=abstract,
        journal="J Test",
        year=2024,
        doi=doi,
        data=payload,
        content_hash=digest,
    )
    session.add(row)
    session.flush()
    assert rev.id is not None and row.id is not None
    added = utcnow() - timedelta(days=age_days)
    session.add(
        ReviewRecord(
            review_id=rev.id,
            record_id=row.id,
            added_at=added,
            priority=UNSCREENED if p_include is None else p_include,
        )
    )
    if p_include is not None:
        session.add(
            Screening(
                review_id=rev.id,
                record_id=row.id,
                protocol_version=rev.protocol_version,
                content_hash=digest,
                decision="include" if p_include >= 0.5 else "exclude",
                p_include=p_include,
                criteria=criteria or {},
            )
        )
    session.flush()
    return row


def records(
    session: Session, rev: Review, n: int, *, start: int = 1, screened: bool = True
) -> list[Record]:
    """``n`` plain records; with ``screened`` their p_include falls with the PMID."""
    return [
        record(
            session,
            rev,
            str(start + i),
            p_include=(1.0 - i / max(n, 1)) if screened else None,
            age_days=i,
        )
        for i in range(n)
    ]


def user(session: Session, name: str, role: str = "reviewer") -> str:
    """Create an account and return its token."""
    _, token = create_user(session=session, name=name, role=role)
    return token
