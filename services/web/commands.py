"""``livescreen users add|list|disable``: accounts are made on the command line, not the web."""

from __future__ import annotations

import argparse
import sys
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
    p = sub.add_parser("disable", help="disable an account (its token stops working)")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_disable)


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
    from services.web.accounts import AccountError, disable_user

    runtime = _sessions(settings)
    try:
        with session_scope(runtime.sessions) as session:
            user = disable_user(session=session, name=args.name)
            print(f"disabled {user.name!r}")
    except AccountError as exc:
        print(f"livescreen users disable: error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    return 0
