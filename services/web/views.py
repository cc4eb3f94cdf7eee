"""What a record looks like to a given caller, in JSON and as highlighted text.

Shared by the API and the pages so both show the same thing, including blind
mode: a reviewer sees other people's decisions on a record only once it is settled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.db.dialect import aware
from services.db.models import Record, Screening
from services.db.reviewing import Claim, Decision, Resolution, User
from services.registry.parse import is_registration, registration_url
from services.reviewing.status import Blinding
from services.web.auth import has_role
from services.web.deps import ReviewContext

FINAL = ("included", "excluded")


def iso(moment: datetime) -> str:
    """UTC with its offset on both databases (SQLite hands timestamps back naive)."""
    return aware(moment).isoformat()


def blinding_for(review: ReviewContext, viewer: User) -> Blinding | None:
    """How blind mode applies to ``viewer`` in ``review`` (None: it does not)."""
    if not review.blind:
        return None
    assert viewer.id is not None
    # by the viewer's role in this review: a list of reviews asks for several in one request
    return Blinding(viewer.id, exempt=has_role(viewer, "resolver", review.slug))


def hides_conflict(review: ReviewContext, viewer: User, *, party: bool) -> bool:
    """Whether ``viewer`` must see a conflict on a record as merely in progress: in a blind
    review, every reviewer, and resolvers on records they screened themselves."""
    return review.blind and (party or not has_role(viewer, "resolver"))


def visible_decisions(
    decisions: list[Decision], *, viewer: User, review: ReviewContext, status: str, party: bool
) -> list[Decision]:
    """Blind mode hides other humans' decisions until the record is settled, from reviewers
    and from resolvers who screened the record themselves (``party``)."""
    if status in FINAL or not hides_conflict(review, viewer, party=party):
        return decisions
    return [d for d in decisions if d.user_id == viewer.id]


def decision_json(d: Decision, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": d.id,
        "reviewer": names.get(d.user_id, str(d.user_id)),
        "decision": d.decision,
        "reasons": list(d.reasons or []),
        "note": d.note,
        "round": d.round,
        "current": d.is_current,
        "created_at": iso(d.created_at),
        "ended_at": iso(d.ended_at) if d.ended_at else None,
        "end_reason": d.end_reason,
    }


def resolution_json(r: Resolution | None, names: dict[int, str]) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "resolver": names.get(r.user_id, str(r.user_id)),
        "decision": r.decision,
        "note": r.note,
        "created_at": iso(r.created_at),
    }


def machine_json(s: Screening | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "decision": s.decision,
        "p_include": s.p_include,
        "protocol_version": s.protocol_version,
        "criteria": s.criteria or {},
        "created_at": iso(s.created_at),
    }


def current_screening(
    record: Record, screenings: list[Screening], review: ReviewContext
) -> Screening | None:
    """The screening of the record's current content and protocol, else the newest one."""
    for s in screenings:
        if (
            s.content_hash == record.content_hash
            and s.protocol_version == review.review.protocol_version
        ):
            return s
    return screenings[0] if screenings else None


def source_link(key: str) -> dict[str, str]:
    """Where the record can be read at its source, and the link's text: PubMed for a PMID,
    ClinicalTrials.gov for a registration (its key is the NCT id)."""
    if is_registration(key):
        return {"url": registration_url(key), "link_text": key}
    return {"url": f"https://pubmed.ncbi.nlm.nih.gov/{key}/", "link_text": f"PMID {key}"}


def record_json(record: Record, *, status: str | None = None) -> dict[str, Any]:
    data = record.data or {}
    out: dict[str, Any] = {
        "id": record.id,
        "pmid": record.pmid,
        "title": record.title,
        "abstract": record.abstract,
        "journal": record.journal,
        "year": record.year,
        "doi": record.doi,
        "publication_types": list(data.get("publication_types") or []),
        "mesh_terms": list(data.get("mesh_terms") or []),
        "keywords": list(data.get("keywords") or []),
        "authors": list(data.get("authors") or []),
        "language": data.get("language"),
        "version": record.version,
        "withdrawn": record.deleted,
        "retracted": record.retracted,
        **source_link(record.pmid),
    }
    if status is not None:
        out["status"] = status
    return out


def claim_json(claim: Claim) -> dict[str, Any]:
    return {"slot": claim.slot, "status": claim.status, "expires_at": iso(claim.expires_at)}


def shows_machine(
    review: ReviewContext, viewer: User, *, decided: bool, status: str | None = None
) -> bool:
    """Whether the machine's suggestion may be shown: always, unless the protocol hides it
    (``hide_suggestions``) from a reviewer who has not yet decided an unsettled record.
    Resolvers see it: they judge a disagreement, not a fresh record."""
    if not review.hide_suggestions or decided or status in FINAL:
        return True
    return has_role(viewer, "resolver") and status == "conflict"
