"""What a reviewer is shown of a record revised since a decision: a flag and a word diff.

The diff compares words, not characters or lines: an abstract is one long line, and a
character diff of a changed dose ("1 mg" to "10 mg") is harder to read than the two words.
Each word keeps the whitespace after it, so the diff reads as the text does.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from markupsafe import Markup, escape
from sqlmodel import Session

from services.db.models import Record
from services.db.reviewing import User
from services.reviewing.revisions import revisions
from services.web import views
from services.web.deps import ReviewContext

WORD = re.compile(r"\S+\s*")


def tokens(text: str) -> list[str]:
    """Words with their trailing whitespace (leading whitespace is kept as its own token)."""
    lead = text[: len(text) - len(text.lstrip())]
    return ([lead] if lead else []) + WORD.findall(text)


def word_diff(old: str, new: str) -> Markup:
    """``new`` with the words it lost in ``<del>`` and the words it gained in ``<ins>``."""
    before, after = tokens(old or ""), tokens(new or "")
    matcher = SequenceMatcher(
        a=[t.strip() for t in before], b=[t.strip() for t in after], autojunk=False
    )
    parts: list[str] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            parts.append(str(escape("".join(after[b0:b1]))))
            continue
        if a1 > a0:
            parts.append(f"<del>{escape(''.join(before[a0:a1]))}</del>")
        if b1 > b0:
            parts.append(f"<ins>{escape(''.join(after[b0:b1]))}</ins>")
    return Markup("".join(parts))


def blinded(ctx: ReviewContext, viewer: User) -> bool:
    """In a blind review a reviewer learns only of their own decisions, not when others
    decided; resolvers and admins see every decision there anyway."""
    return ctx.blind and not views.has_role(viewer, "resolver")


def revision_view(
    *, session: Session, ctx: ReviewContext, viewer: User, record: Record
) -> dict[str, Any] | None:
    """The flag and diffs for the record's page, or None when it was not revised since a
    decision the viewer may know of (in a blind review, only their own)."""
    assert record.id is not None
    found = revisions(
        session=session,
        review_id=ctx.id,
        records=[record],
        viewer=viewer.id,
        only_viewer=blinded(ctx, viewer),
    ).get(record.id)
    if found is None:
        return None
    return {
        "by_viewer": found.by_viewer,
        "decided_at": views.iso(found.decided_at),
        "title_diff": word_diff(found.decided_title, record.title or ""),
        "abstract_diff": word_diff(found.decided_abstract, record.abstract or ""),
    }


def revised_ids(
    *, session: Session, ctx: ReviewContext, viewer: User, records: list[Record]
) -> set[int]:
    """Which of a list's records to flag as revised since a decision (see revision_view)."""
    return set(
        revisions(
            session=session,
            review_id=ctx.id,
            records=records,
            viewer=viewer.id,
            only_viewer=blinded(ctx, viewer),
            with_content=False,
        )
    )
