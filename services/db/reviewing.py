"""Tables of the reviewer side: accounts, claims on records, human decisions, resolutions.

The invariants that keep concurrent reviewers safe live in the database, not in
Python: one holder per screening slot of a record (``uq_claim_slot``), one slot
per reviewer per record (``uq_claim_user``), one *current* decision per reviewer
per record per round (the partial unique index ``uq_decision_current``) and one
resolution per record. Decisions are never deleted: a replacement or an undo
only ends the old row, so the audit trail is complete.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import field_serializer
from sqlmodel import Field, SQLModel

from services.db.models import cascading_key, timestamp

ROLES = ("reviewer", "resolver", "admin")
REVIEW_ROLES = ("reviewer", "resolver")  # what a membership can grant; admins see every review
DECISIONS = ("include", "exclude")


class UserBase(SQLModel):
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    role: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    active: bool = Field(default=True)


class User(UserBase, table=True):
    """A person; only the SHA-256 of their token is stored, so a leaked table grants nothing."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = timestamp()
    disabled_at: datetime | None = timestamp(nullable=True)
    # Every page session carries the version it was signed in under; bumping it (sign-out,
    # disable, a new token) ends all of them at once, however old their cookies.
    session_version: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )


class UserPublic(UserBase):
    id: int
    created_at: datetime
    disabled_at: datetime | None = None

    @field_serializer("created_at", "disabled_at")
    def _utc(self, moment: datetime | None) -> str | None:
        """With its UTC offset on both databases (SQLite hands timestamps back naive)."""
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


class ReviewMember(SQLModel, table=True):
    """A user's access to one review, with their role there.

    Keyed by the review's slug, not its row, so an admin can grant access to a configured
    review before its first sweep has created the row. While the table is empty every
    user works on every review (as before memberships existed); once it has any row, a
    non-admin sees only the reviews they are a member of.
    """

    __tablename__ = "review_members"
    __table_args__ = (sa.Index("ix_review_members_user", "user_id"),)

    review_slug: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    user_id: int = cascading_key("users", primary_key=True)
    role: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    created_at: datetime = timestamp()


class AppSecret(SQLModel, table=True):
    """Generated secrets (the session signing key) kept in the database so restarts keep them."""

    __tablename__ = "app_secrets"

    name: str = Field(sa_column=sa.Column(sa.String(50), primary_key=True))
    value: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = timestamp()


class Claim(SQLModel, table=True):
    """A reviewer's hold on one screening slot of a record.

    ``active`` claims are leases that lapse at ``expires_at``; a decision turns
    the claim ``done`` and it keeps its slot for good, which is how a record
    that has all its decisions stops being handed out.
    """

    __tablename__ = "claims"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "record_id", "slot", name="uq_claim_slot"),
        sa.UniqueConstraint("review_id", "record_id", "user_id", name="uq_claim_user"),
        sa.Index("ix_claims_user", "review_id", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    record_id: int = cascading_key("records")
    user_id: int = cascading_key("users")
    slot: int
    status: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    claimed_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    model_version: str | None = Field(  # what ranked the record when it was claimed
        default=None, sa_column=sa.Column(sa.String(24), nullable=True)
    )


class Skip(SQLModel, table=True):
    """A record a reviewer passed over; it comes back to them only when nothing else is left."""

    __tablename__ = "skips"

    review_id: int = cascading_key("reviews", primary_key=True)
    record_id: int = cascading_key("records", primary_key=True)
    user_id: int = cascading_key("users", primary_key=True)
    created_at: datetime = timestamp()


class Decision(SQLModel, table=True):
    """One human decision; rows are ended (``is_current`` false), never deleted."""

    __tablename__ = "decisions"
    __table_args__ = (
        sa.Index(
            "uq_decision_current",
            "review_id",
            "record_id",
            "user_id",
            "round",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
        sa.Index("ix_decisions_record", "review_id", "record_id"),
        sa.Index("ix_decisions_user", "review_id", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    record_id: int = cascading_key("records")
    user_id: int = cascading_key("users")
    round: int = Field(default=1)
    decision: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    is_current: bool = Field(default=True)
    created_at: datetime = timestamp()
    ended_at: datetime | None = timestamp(nullable=True)
    end_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    model_version: str | None = Field(  # what ranked the record when it was decided
        default=None, sa_column=sa.Column(sa.String(24), nullable=True)
    )


class Resolution(SQLModel, table=True):
    """A resolver's final word on a conflict; it outranks every reviewer decision."""

    __tablename__ = "resolutions"
    __table_args__ = (sa.UniqueConstraint("review_id", "record_id", name="uq_resolution"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    record_id: int = cascading_key("records")
    user_id: int = cascading_key("users")
    decision: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    note: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = timestamp()
