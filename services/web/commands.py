"""``livescreen users add|list|disable|enable|token``: accounts are managed on the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from services.db.engine import session_scope
from services.db.reviewing import ROLES
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


def _sessions(settings: Settings) -> Any:
    from services.runtime import build_runtime

    return build_runtime(settings)


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.accounts import AccountError, create_user

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            user, token = create_user(session=session, name=args.name, role=args.role)
            print(f"created {user.role} {user.name!r}; the token is shown only this once:")
    except AccountError as exc:
        print(f"livescreen users add: error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(token)
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from services.web.accounts import list_users

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            users = list_users(session=session)
            for user in users:
                state = "active" if user.active else "disabled"
                print(f"{user.name}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d %H:%M}")
            if not users:
                print("no users yet; create one with: livescreen users add NAME --role admin")
    finally:
        runtime.close()
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
