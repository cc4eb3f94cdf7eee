"""Which sweep row a run works on: resume an interrupted one, refuse a live one, or open one.

Why: a sweep killed at any point must resume without duplicates, and two runs of
the same review must never interleave. The first sweep is full; later ones search
records entered (edat) or revised (mdat) since the last successful sweep (with or
without gaps: those are carried by ``record_gaps``), overlapping it by a day.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from services.db.models import Sweep, utcnow
from services.errors import SweepError

from .status import last_successful_sweep
from .windows import EARLIEST, Window, parse_day

UNFINISHED = ("running", "interrupted")


@dataclass
class SweepPlan:
    full: bool
    windows: list[Window]


def plan_sweep(
    *,
    last_success: Sweep | None,
    full: bool,
    mindate: str | None,
    maxdate: str | None,
    today: date,
) -> SweepPlan:
    """Full on first use or on request; otherwise new and revised records since the last success."""
    end = parse_day(maxdate) if maxdate else today
    if full or last_success is None:
        start = parse_day(mindate) if mindate else EARLIEST
        return SweepPlan(True, [Window(start, end, "edat")])
    start = parse_day(mindate) if mindate else parse_day(last_success.maxdate) - timedelta(days=1)
    start = min(start, end)
    return SweepPlan(False, [Window(start, end, "edat"), Window(start, end, "mdat")])


def current_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """False only when the owner is a process on this host that no longer exists.

    A sweep killed with SIGKILL cannot mark itself; this lets the next run on the
    same machine resume it at once instead of waiting for the heartbeat to age.
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_sweep(
    session: Session,
    *,
    review_id: int,
    plan_args: dict[str, object],
    stale_after: timedelta,
    today: date,
    explicit: bool,
) -> tuple[Sweep, bool]:
    """Resume an interrupted sweep of this review, or open a new one; refuse a live duplicate."""
    unfinished = session.exec(
        select(Sweep)
        .where(Sweep.review_id == review_id, col(Sweep.state).in_(UNFINISHED))
        .order_by(col(Sweep.id).desc())
    ).first()
    if unfinished is not None:
        heartbeat = unfinished.heartbeat_at
        if heartbeat.tzinfo is None:  # SQLite returns naive datetimes
            heartbeat = heartbeat.replace(tzinfo=utcnow().tzinfo)
        live = (
            unfinished.state == "running"
            and utcnow() - heartbeat < stale_after
            and owner_alive(unfinished.owner)
        )
        if live:
            raise SweepError(
                f"sweep {unfinished.id} of this review is still running "
                f"(last heartbeat {heartbeat.isoformat(timespec='seconds')})"
            )
        if not explicit:
            unfinished.state = "running"
            unfinished.owner = current_owner()
            unfinished.heartbeat_at = utcnow()
            session.add(unfinished)
            session.flush()
            return unfinished, True
        unfinished.state = "abandoned"
        unfinished.finished_at = utcnow()
        session.add(unfinished)
    plan = plan_sweep(
        last_success=last_successful_sweep(session=session, review_id=review_id),
        today=today,
        **plan_args,  # type: ignore[arg-type]
    )
    window = plan.windows[0]
    sweep = Sweep(
        review_id=review_id,
        state="running",
        full=plan.full,
        mindate=window.mindate,
        maxdate=window.maxdate,
        owner=current_owner(),
    )
    session.add(sweep)
    session.flush()
    return sweep, False


def windows_of(sweep: Sweep) -> list[Window]:
    start, end = parse_day(sweep.mindate), parse_day(sweep.maxdate)
    if sweep.full:
        return [Window(start, end, "edat")]
    return [Window(start, end, "edat"), Window(start, end, "mdat")]
