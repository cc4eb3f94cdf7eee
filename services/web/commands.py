"""``livescreen users add|list|disable|enable|token|grant|revoke``: accounts and their access
to reviews are managed on the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from services.db.engine import session_scope
from services.db.reviewing import REVIEW_ROLES, ROLES
from services.settings import Settings


def register(subparsers: Any) -> None:
    users = subparsers.add_parser("users", help="manage reviewer accounts")
    sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = sub.add_parser("add", help="create an account and print its token once")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, default="reviewer")
    p.set_defaults(func=cmd_users_add)
    p = sub.add_parser("list", help="list accounts")
    p.set_defaults(func=cmd_users_list)
    p = sub.add_parser("disable", help="disable an account (its token and sessions stop working)")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_disable)
    p = sub.add_parser("enable", help="give a disabled account its access back")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_enable)
    p = sub.add_parser("token", help="issue a new token for a lost one (the old one stops working)")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_token)
    p = sub.add_parser(
        "grant",
        help="give a user access to one review with a role there; once any user is granted,"
        " non-admins see only the reviews they are granted",
    )
    p.add_argument("name")
    p.add_argument("--review", required=True, metavar="SLUG")
    p.add_argument("--role", choices=REVIEW_ROLES, default="reviewer")
    p.set_defaults(func=cmd_users_grant)
    p = sub.add_parser("revoke", help="end a user's access to one review (at once)")
    p.add_argument("name")
    p.add_argument("--review", required=True, metavar="SLUG")
    p.set_defaults(func=cmd_users_revoke)


def _sessions(settings: Settings) -> Any:
    from services.runtime import build_runtime

    return build_runtime(settings)


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.accounts import AccountError, create_user

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            user, token = create_user(session=session, name=args.name, role=args.role)
            print(
                f"created {user.role} {user.name!r} in {settings.database_location()}; "
                "the token is shown only this once:"
            )
    except AccountError as exc:
        print(f"livescreen users add: error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(token)
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    """One line per account, its reviews last: ``micro=resolver,other=reviewer``, ``all``
    (an admin, or nobody has memberships yet) or ``none``."""
    from services.reviewing.access import memberships
    from services.web.accounts import list_users

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            users = list_users(session=session)
            granted: dict[str, list[str]] = {}
            for m in memberships(session=session):
                granted.setdefault(m.user, []).append(f"{m.slug}={m.role}")
            for user in users:
                state = "active" if user.active else "disabled"
                reviews = (
                    "all"
                    if user.role == "admin" or not granted
                    else ",".join(granted.get(user.name, [])) or "none"
                )
                print(
                    f"{user.name}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d %H:%M}"
                    f"\treviews: {reviews}"
                )
            if not users:
                print("no users yet; create one with: livescreen users add NAME --role admin")
    finally:
        runtime.close()
    return 0


def cmd_users_grant(args: argparse.Namespace, settings: Settings) -> int:
    from services.reviewing.access import check_slug, grant
    from services.web.accounts import find_user

    def change(session: Any, runtime: Any) -> str:
        slug = check_slug(session=session, slug=args.review, configured=runtime.protocols)
        row = grant(
            session=session,
            user=find_user(session=session, name=args.name),
            slug=slug,
            role=args.role,
        )
        return f"{row.user!r} is a {row.role} on review {row.slug!r}"

    return _member_change(settings, "grant", change)


def cmd_users_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from services.reviewing.access import revoke
    from services.web.accounts import find_user

    def change(session: Any, runtime: Any) -> str:
        revoke(session=session, user=find_user(session=session, name=args.name), slug=args.review)
        return f"{args.name!r} no longer has access to review {args.review!r}"

    return _member_change(settings, "revoke", change)


def _member_change(settings: Settings, action: str, change: Callable[[Any, Any], str]) -> int:
    """A membership change in one transaction: its message, or one error line and exit 1."""
    from services.reviewing.access import MembershipError
    from services.web.accounts import AccountError

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            message = change(session, runtime)
    except (AccountError, MembershipError) as exc:
        print(f"livescreen users {action}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(message)
    return 0


def cmd_users_disable(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.accounts import disable_user

    return _change(
        settings, "disable", lambda s: f"disabled {disable_user(session=s, name=args.name).name!r}"
    )


def cmd_users_enable(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.accounts import enable_user

    return _change(
        settings, "enable", lambda s: f"enabled {enable_user(session=s, name=args.name).name!r}"
    )


def cmd_users_token(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.accounts import reissue_token

    def reissue(session: Any) -> str:
        user, token = reissue_token(session=session, name=args.name)
        return (
            f"new token for {user.name!r}; the old one and its sessions no longer work;"
            f" it is shown only this once:\n{token}"
        )

    return _change(settings, "token", reissue)


def _change(settings: Settings, action: str, change: Callable[[Any], str]) -> int:
    """Run one account change in a transaction; print its message, or one error line."""
    from services.web.accounts import AccountError

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            message = change(session)
    except AccountError as exc:
        print(f"livescreen users {action}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(message)
    return 0
