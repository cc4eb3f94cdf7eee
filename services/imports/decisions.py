"""Human decisions carried by a livescreen JSONL export, restored into the importing review.

``livescreen import --with-decisions`` moves a review to another instance or forks it into a
new review: each exported record's current decisions (reviewer, decision, reasons, note,
round, time) and its resolution come back as they were, so statuses, conflicts and progress
read the same. Reviewers are matched by name; a name with no account gets one, disabled
(an admin gives it a token with ``livescreen users token NAME`` and enables it), so no
decision is ever attributed to someone else. Every restored decision also holds a finished
claim on its screening slot, which is how the queue knows the record needs no more votes.

Restoring is idempotent (a decision already on file for the same reviewer, record and round
is left alone, as is an existing resolution), and one bad decision is listed in the
import's report and skipped without costing its record or the rest of the file. Restored
decisions are history, not news: they raise no alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.models import utcnow
from services.db.reviewing import DECISIONS, Claim, Decision, Resolution, User
from services.reviewing.decisions import mark_conflict, validate_decision
from services.reviewing.errors import InvalidDecision
from services.web.accounts import AccountError, check_name, hash_token, new_token


@dataclass
class Restored:
    """What one batch restored, and what it could not (``problems``: where, problem and
    ``kind`` "decision", beside the report's bad records)."""

    decisions: int = 0
    resolutions: int = 0
    accounts: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class History:
    """One record's decisions and resolution as the file gives them, with its place."""

    row: str
    record_id: int
    decisions: Sequence[Any]
    resolution: Any


class BadEntry(ValueError):
    """One decision or resolution of the file that cannot be restored; says why."""


def _moment(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise BadEntry(f"{what} has no created_at time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadEntry(f"{what} has created_at {value!r}, not an ISO 8601 time") from None
    # stored in UTC as every other time; a time without an offset is read as UTC
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(entry: dict[str, Any], key: str, what: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadEntry(f"{what} has no {key}")
    return value.strip()


class _Accounts:
    """Users by name, creating a disabled account for a name the instance does not know."""

    def __init__(self, session: Session, restored: Restored) -> None:
        self._session = session
        self._restored = restored
        self._ids: dict[str, int] = {}

    def id_of(self, name: str, role: str) -> int:
        if name in self._ids:
            return self._ids[name]
        try:
            check_name(name)
        except AccountError as exc:
            raise BadEntry(str(exc)) from None
        user = self._session.exec(select(User).where(User.name == name)).first()
        if user is None:
            user = User(
                name=name, role=role, token_hash=hash_token(new_token()), active=False,
                disabled_at=utcnow(),
            )  # fmt: skip
            self._session.add(user)
            self._session.flush()
            self._restored.accounts.append(name)
        assert user.id is not None
        self._ids[name] = user.id
        return user.id


def restore_histories(
    *,
    session: Session,
    review_id: int,
    histories: Sequence[History],
    criteria: Sequence[str],
    required: int,
) -> Restored:
    """Restore each record's decisions and resolution in the session's transaction."""
    restored = Restored()
    accounts = _Accounts(session, restored)
    for history in histories:
        for number, entry in enumerate(history.decisions or [], start=1):
            what = f"decision {number}"
            try:
                if _restore_decision(session, review_id, history.record_id, entry, what,
                                     accounts, criteria):  # fmt: skip
                    restored.decisions += 1
            except BadEntry as exc:
                restored.problems.append(
                    {"where": history.row, "problem": f"{what}: {exc}", "kind": "decision"}
                )
        if history.decisions:
            mark_conflict(
                session.connection(), review_id=review_id, record_id=history.record_id,
                required=required, now=utcnow(),
            )  # fmt: skip
        if history.resolution:
            try:
                if _restore_resolution(session, review_id, history.record_id,
                                       history.resolution, accounts):  # fmt: skip
                    restored.resolutions += 1
            except BadEntry as exc:
                restored.problems.append(
                    {"where": history.row, "problem": f"resolution: {exc}", "kind": "decision"}
                )
    session.flush()
    return restored


def _restore_decision(
    session: Session,
    review_id: int,
    record_id: int,
    entry: Any,
    what: str,
    accounts: _Accounts,
    criteria: Sequence[str],
) -> bool:
    if not isinstance(entry, dict):
        raise BadEntry(f"{what} is not an object")
    decision = _text(entry, "decision", what)
    reasons = entry.get("reasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise BadEntry("reasons must be a list of criterion names")
    try:
        validate_decision(decision, reasons, criteria)
    except InvalidDecision as exc:
        raise BadEntry(str(exc)) from None
    note = entry.get("note") or ""
    round_ = entry.get("round", 1)
    if not isinstance(round_, int) or isinstance(round_, bool) or round_ < 1:
        raise BadEntry(f"round must be a whole number from 1, got {round_!r}")
    created = _moment(entry.get("created_at"), what)
    user_id = accounts.id_of(_text(entry, "reviewer", what), "reviewer")
    on_file = session.exec(
        select(Decision.id).where(
            Decision.review_id == review_id, Decision.record_id == record_id,
            Decision.user_id == user_id, Decision.round == round_,
            col(Decision.is_current).is_(True),
        )
    ).first()  # fmt: skip
    if on_file is not None:
        return False
    _finished_claim(session, review_id, record_id, user_id, created)
    session.add(
        Decision(
            review_id=review_id, record_id=record_id, user_id=user_id, round=round_,
            decision=decision, reasons=list(dict.fromkeys(reasons)), note=str(note),
            created_at=created,
        )
    )  # fmt: skip
    session.flush()
    return True


def _finished_claim(
    session: Session, review_id: int, record_id: int, user_id: int, created: datetime
) -> None:
    """The reviewer's slot on the record, taken and done, as a decision leaves it."""
    claim = session.exec(
        select(Claim).where(
            Claim.review_id == review_id, Claim.record_id == record_id, Claim.user_id == user_id
        )
    ).first()
    if claim is not None:
        claim.status, claim.expires_at = "done", created
        session.add(claim)
        return
    taken = sa.select(sa.func.coalesce(sa.func.max(col(Claim.slot)), 0)).where(
        col(Claim.review_id) == review_id, col(Claim.record_id) == record_id
    )
    slot = int(session.execute(taken).scalar_one()) + 1
    session.add(
        Claim(
            review_id=review_id, record_id=record_id, user_id=user_id, slot=slot,
            status="done", claimed_at=created, expires_at=created,
        )
    )  # fmt: skip
    session.flush()


def _restore_resolution(
    session: Session, review_id: int, record_id: int, entry: Any, accounts: _Accounts
) -> bool:
    if not isinstance(entry, dict):
        raise BadEntry("it is not an object")
    decision = _text(entry, "decision", "the resolution")
    if decision not in DECISIONS:
        raise BadEntry(f"decision must be 'include' or 'exclude', got {decision!r}")
    created = _moment(entry.get("created_at"), "the resolution")
    user_id = accounts.id_of(_text(entry, "resolver", "the resolution"), "resolver")
    on_file = session.exec(
        select(Resolution.id).where(
            Resolution.review_id == review_id, Resolution.record_id == record_id
        )
    ).first()
    if on_file is not None:
        return False
    session.add(
        Resolution(
            review_id=review_id, record_id=record_id, user_id=user_id, decision=decision,
            note=str(entry.get("note") or ""), created_at=created,
        )
    )  # fmt: skip
    return True
