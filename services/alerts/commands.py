"""``livescreen alerts subscribe|list|test|unsubscribe|deliver``: who hears about new trials.

``subscribe`` prints the subscription's id alone on its last line (for scripts); for
``--atom`` the feed URL instead, and a generated webhook secret once before it.
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any

from services.db.engine import session_scope
from services.settings import Settings


def register(subparsers: Any) -> None:
    alerts = subparsers.add_parser("alerts", help="subscriptions to a review's alerts")
    sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    p = sub.add_parser("subscribe", help="hear about a review's alerts through one channel")
    p.add_argument("--review", metavar="SLUG", help="review slug (default: the only one)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--webhook", metavar="URL", help="POST signed JSON to this URL")
    where.add_argument("--email", metavar="ADDRESS", help="one digest per sweep to this address")
    where.add_argument("--atom", action="store_true", help="a private Atom feed")
    p.add_argument("--secret", help="webhook signing secret (default: generated, printed once)")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        metavar="P",
        help="p_include from which machine 'uncertain' verdicts alert too (default 0.5)",
    )
    p.add_argument("--max-records", type=int, default=50, help="records per e-mail digest")
    p.add_argument("--send-empty", action="store_true", help="mail a digest even with no news")
    p.set_defaults(func=cmd_subscribe)
    p = sub.add_parser("list", help="list subscriptions and their deliveries")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("test", help="send a signed sample alert to a subscription now")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("unsubscribe", help="stop a subscription")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_unsubscribe)
    p = sub.add_parser("deliver", help="send every due delivery now")
    p.set_defaults(func=cmd_deliver)


def _runtime(settings: Settings) -> Any:
    from services.runtime import build_runtime

    return build_runtime(settings)


def _fail(action: str, message: str) -> int:
    print(f"livescreen alerts {action}: error: {message}", file=sys.stderr)
    return 1


def cmd_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    from services.alerts.payload import link_base
    from services.alerts.subscriptions import SubscriptionError, subscribe
    from services.pipeline.store import ensure_review

    channel = "webhook" if args.webhook else "email" if args.email else "atom"
    runtime = _runtime(settings)
    try:
        protocol = runtime.protocol(args.review)
        with session_scope(runtime.sessions) as session:
            review = ensure_review(session=session, protocol=protocol)
            assert review.id is not None
            made = subscribe(
                session=session,
                settings=settings,
                review_id=review.id,
                channel=channel,
                target=args.webhook or args.email or "",
                secret=args.secret or "",
                threshold=args.threshold,
                max_records=args.max_records,
                send_empty=args.send_empty,
            )
            sub_id = made.subscription.id
    except SubscriptionError as exc:
        return _fail("subscribe", str(exc))
    finally:
        runtime.close()
    if made.secret:
        print(f"webhook secret (shown only this once): {made.secret}")
    if made.feed_token:
        print(f"subscription {sub_id}; the feed URL (keep it private):")
        print(f"{link_base(settings)}/reviews/{protocol.slug}/feed.atom?token={made.feed_token}")
    else:
        print(sub_id)
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    import sqlalchemy as sa
    from sqlmodel import col

    from services.alerts.subscriptions import describe, subscriptions_of
    from services.db.alerts import Delivery

    runtime = _runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            rows = subscriptions_of(session=session)
            counts: dict[tuple[int, str], int] = {
                (sid, state): n
                for sid, state, n in session.execute(
                    sa.select(
                        col(Delivery.subscription_id), col(Delivery.state), sa.func.count()
                    ).group_by(col(Delivery.subscription_id), col(Delivery.state))
                ).all()
            }
            for row in rows:
                assert row.id is not None
                states = ", ".join(
                    f"{counts[(row.id, s)]} {s}"
                    for s in ("pending", "sending", "delivered", "failed")
                    if (row.id, s) in counts
                )
                print(f"{describe(row)}\t{states or 'no deliveries'}")
            if not rows:
                print(
                    "no subscriptions yet; add one with: livescreen alerts subscribe --webhook URL"
                )
    finally:
        runtime.close()
    return 0


def cmd_test(args: argparse.Namespace, settings: Settings) -> int:
    from services.alerts.sample import send_sample
    from services.alerts.subscriptions import SubscriptionError, find_subscription

    runtime = _runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            row = find_subscription(session=session, subscription_id=args.id)
            outcome = send_sample(session=session, settings=settings, subscription=row)
    except SubscriptionError as exc:
        return _fail("test", str(exc))
    finally:
        runtime.close()
    if outcome.status != "delivered":
        return _fail("test", f"{outcome.status}: {outcome.reason}")
    print(f"sample alert delivered to subscription {args.id}")
    return 0


def cmd_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    from services.alerts.subscriptions import SubscriptionError, unsubscribe

    runtime = _runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            unsubscribe(session=session, subscription_id=args.id)
    except SubscriptionError as exc:
        return _fail("unsubscribe", str(exc))
    finally:
        runtime.close()
    print(f"subscription {args.id} stopped")
    return 0


def cmd_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from services.alerts.deliver import deliver_due

    runtime = _runtime(settings)
    try:
        report = deliver_due(sessions=runtime.sessions, settings=settings, rng=random.Random())
    finally:
        runtime.close()
    print(
        f"{report.delivered} delivered, {report.retry} to retry, {report.failed} failed"
        + "".join(f"\n  {e}" for e in dict.fromkeys(report.errors))
    )
    return 1 if report.failed else 0
