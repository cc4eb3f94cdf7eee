"""Accounts and generated secrets: pure data access with ``session=``, shared by CLI and web."""

from __future__ import annotations

import hashlib
import re
import secrets

import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.db.models import utcnow
from services.db.reviewing import ROLES, AppSecret, User

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class AccountError(ValueError):
    """A user cannot be created or changed; the message says why."""


class NoSuchUser(AccountError):
    """No account has that name."""


# Letters and digits of any script, then also . _ @ + -; no spaces, slashes or controls, so a
# name is safe in a URL path, a shell and a log line.
NAME_RULE = re.compile(r"[^\W_][\w.@+-]{0,99}")
NAME_HELP = (
    "a user name is 1 to 100 characters: letters or digits, then also . _ @ + -"
    " (no spaces, slashes or control characters)"
)


def check_name(name: str) -> str:
    """The name as stored, or AccountError saying the rule it breaks."""
    if not NAME_RULE.fullmatch(name):
        raise AccountError(f"{name!r} is not a valid user name: {NAME_HELP}")
    return name


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough (no salt or stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "lsk_" + secrets.token_urlsafe(32)


def create_user(*, session: Session, name: str, role: str) -> tuple[User, str]:
    """Create an account and return it with its token; only the token's hash is stored."""
    name = check_name(name.strip())
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise AccountError(f"user {name!r} already exists")
    token = new_token()
    user = User(name=name, role=role, token_hash=hash_token(token))
    session.add(user)
    session.flush()
    return user, token


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))))


def find_user(*, session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NoSuchUser(f"no user named {name!r}")
    return user


def end_sessions(user: User) -> None:
    """Every signed-in page session of the user stops working (see ``User.session_version``)."""
    user.session_version += 1


def disable_user(*, session: Session, name: str) -> User:
    """Disable an account: its token and every page session stop working at once.

    The last active admin cannot be disabled, or nobody could manage accounts again."""
    user = find_user(session=session, name=name)
    if user.active:
        if user.role == "admin" and active_admins(session=session) <= 1:
            raise AccountError(
                f"{name!r} is the last active admin; make another admin before disabling it"
            )
        user.active = False
        user.disabled_at = utcnow()
        end_sessions(user)
        session.add(user)
        session.flush()
    return user


def enable_user(*, session: Session, name: str) -> User:
    """Give a disabled account its access back (same token)."""
    user = find_user(session=session, name=name)
    if not user.active:
        user.active = True
        user.disabled_at = None
        session.add(user)
        session.flush()
    return user


def reissue_token(*, session: Session, name: str) -> tuple[User, str]:
    """A new token for a lost one: the old token and every page session stop working."""
    user = find_user(session=session, name=name)
    token = new_token()
    user.token_hash = hash_token(token)
    end_sessions(user)
    session.add(user)
    session.flush()
    return user, token


def active_admins(*, session: Session) -> int:
    stmt = sa.select(sa.func.count()).where(col(User.role) == "admin", col(User.active).is_(True))
    return int(session.execute(stmt).scalar_one())


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user holding ``token``; the lookup is by the indexed hash, never the token."""
    if not token:
        return None
    row = session.connection().execute(_BY_TOKEN_HASH, {"token_hash": hash_token(token)}).first()
    return User(**row._mapping) if row is not None and row.active else None


# Built once and run as plain SQL: this lookup comes with every API request. The user
# comes back detached from the session; callers read it, never change it.
_BY_TOKEN_HASH = sa.select(*User.__table__.columns).where(  # type: ignore[attr-defined]
    col(User.token_hash) == sa.bindparam("token_hash")
)


def secret(*, session: Session, name: str) -> str:
    """A named random secret, generated once and kept in the database so restarts reuse it."""
    row = session.get(AppSecret, name)
    if row is not None:
        return row.value
    from services.db.dialect import dialect_insert

    insert = dialect_insert(session)
    value = secrets.token_urlsafe(48)
    session.execute(
        insert(AppSecret)
        .values(name=name, value=value, created_at=utcnow())
        .on_conflict_do_nothing()
    )
    stored = session.execute(
        sa.select(col(AppSecret.value)).where(col(AppSecret.name) == name)
    ).scalar_one()
    return str(stored)
