"""Who may work on which review: memberships, and the role a user has in one review.

The rule, in one place so every route and command applies the same one:

- an admin sees every review, as an admin;
- while no membership exists anywhere, every user sees every review with their own role
  (installs from before memberships keep working unchanged);
- once any membership exists, a non-admin sees only the reviews they are a member of, with
  the role granted there (reviewer or resolver), whatever their account's role.

Nothing is cached: a revoked membership stops the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.models import Review, utcnow
from services.db.reviewing import REVIEW_ROLES, ReviewMember, User


class MembershipError(ValueError):
    """A membership cannot be granted or revoked; the message names the input and why."""


class NoSuchMembership(MembershipError):
    """The user is not a member of that review."""


@dataclass(frozen=True)
class Membership:
    """One row of ``review_members`` with the user's name, for listings."""

    slug: str
    user: str
    role: str


def memberships_exist(*, session: Session) -> bool:
    """Whether access is per review at all (any membership anywhere)."""
    stmt = sa.select(sa.exists().where(col(ReviewMember.user_id).is_not(None)))
    return bool(session.execute(stmt).scalar())


def role_in_review(*, session: Session, user: User, slug: str) -> str | None:
    """The role ``user`` has in the review ``slug``, or None when they may not see it.

    One query: whether any membership exists, and the user's own one for this review."""
    if user.role == "admin":
        return "admin"
    own = (
        sa.select(col(ReviewMember.role))
        .where(col(ReviewMember.review_slug) == slug, col(ReviewMember.user_id) == user.id)
        .scalar_subquery()
    )
    any_member = sa.exists().where(col(ReviewMember.user_id).is_not(None))
    in_use, role = session.execute(sa.select(any_member, own)).one()
    if not in_use:
        return user.role
    return str(role) if role is not None else None


def review_roles(*, session: Session, user_id: int, role: str) -> dict[str, str] | None:
    """The user's role in each review they may see, by slug; None when they see every
    review with their account's role (admins, or no memberships anywhere)."""
    if role == "admin" or not memberships_exist(session=session):
        return None
    stmt = sa.select(col(ReviewMember.review_slug), col(ReviewMember.role)).where(
        col(ReviewMember.user_id) == user_id
    )
    return {slug: granted for slug, granted in session.execute(stmt)}


def check_review_role(role: str) -> str:
    if role not in REVIEW_ROLES:
        raise MembershipError(
            f"a review role must be one of {', '.join(REVIEW_ROLES)}, got {role!r}"
            " (admins see every review without a membership)"
        )
    return role


def check_slug(*, session: Session, slug: str, configured: Iterable[str]) -> str:
    """``slug`` when it names a configured review or one with records, else why not."""
    if slug in set(configured):
        return slug
    if session.exec(select(Review.id).where(Review.slug == slug)).first() is not None:
        return slug
    raise MembershipError(f"unknown review {slug!r}: no protocol configures it and it has no rows")


def grant(*, session: Session, user: User, slug: str, role: str) -> Membership:
    """Give ``user`` access to ``slug`` with ``role``; granting again changes the role."""
    check_review_role(role)
    if user.role == "admin":
        raise MembershipError(
            f"{user.name!r} is an admin and sees every review; grant reviewers and resolvers"
        )
    assert user.id is not None
    row = session.get(ReviewMember, (slug, user.id))
    if row is None:
        row = ReviewMember(review_slug=slug, user_id=user.id, role=role, created_at=utcnow())
    row.role = role
    session.add(row)
    session.flush()
    return Membership(slug=slug, user=user.name, role=role)


def revoke(*, session: Session, user: User, slug: str) -> None:
    """End ``user``'s access to ``slug`` at once (their next request is refused)."""
    assert user.id is not None
    row = session.get(ReviewMember, (slug, user.id))
    if row is None:
        raise NoSuchMembership(f"{user.name!r} is not a member of review {slug!r}")
    session.delete(row)
    session.flush()


def membership(*, session: Session, user: User, slug: str) -> Membership:
    assert user.id is not None
    row = session.get(ReviewMember, (slug, user.id))
    if row is None:
        raise NoSuchMembership(f"{user.name!r} is not a member of review {slug!r}")
    return Membership(slug=slug, user=user.name, role=row.role)


def memberships(*, session: Session, slug: str | None = None) -> list[Membership]:
    """Every membership (or one review's), ordered by review then user name."""
    stmt = (
        sa.select(col(ReviewMember.review_slug), col(User.name), col(ReviewMember.role))
        .join(User, col(User.id) == col(ReviewMember.user_id))
        .order_by(col(ReviewMember.review_slug), col(User.name))
    )
    if slug is not None:
        stmt = stmt.where(col(ReviewMember.review_slug) == slug)
    return [Membership(slug=s, user=n, role=r) for s, n, r in session.execute(stmt)]
