"""One sweep of a review's PubMed query into the store: search windows, fetch, parse, upsert.

Why it is shaped like this:
- PubMed returns at most ``esearch_limit`` (9,999) records of one search, so a
  window holding more is split by dates until every part fits.
- The first sweep is full; later ones search records entered (edat) or revised
  (mdat) since the last successful sweep, overlapping it by a day.
- Every batch commits with the sweep's counters and heartbeat, so a killed sweep
  loses at most one batch; run again, it resumes the same sweep row and skips the
  PMIDs it already stored.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from services.db.engine import session_scope
from services.db.models import Sweep, utcnow
from services.errors import SweepError
from services.protocols import Protocol
from services.pubmed.client import EutilsClient, EutilsError
from services.pubmed.parse import PubmedXMLError, iter_pubmed_xml
from services.records import Deletion, Quarantined
from services.records import Record as ParsedRecord
from services.settings import Settings

from . import store
from .status import last_successful_sweep
from .windows import EARLIEST, Window, format_day, parse_day

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (records processed, records found so far)
UNFINISHED = ("running", "interrupted")


@dataclass
class SweepPlan:
    full: bool
    windows: list[Window]


@dataclass
class SweepResult:
    sweep_id: int
    state: str
    counts: dict[str, int]
    error: str | None = None
    changed_ids: list[int] = field(default_factory=list)

    def summary(self, slug: str) -> str:
        c = self.counts
        head = f"{slug}: sweep {self.sweep_id} {self.state}"
        body = (
            f"{c['found']} found, {c['fetched']} fetched, {c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['missing']} missing, {c['quarantined']} quarantined, "
            f"{c['requests']} requests"
        )
        return f"{head}: {body}" + (f"; error: {self.error}" if self.error else "")


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


class _Sweeper:
    """State of one running sweep; the public entry point is ``run_sweep``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: EutilsClient,
        protocol: Protocol,
        settings: Settings,
        sweep_id: int,
        review_id: int,
        done: set[str],
        progress: Progress | None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.protocol = protocol
        self.settings = settings
        self.sweep_id = sweep_id
        self.review_id = review_id
        self.done = done  # PMIDs stored (or given up on) by this sweep
        self.found: set[str] = set(done)
        self.progress = progress
        self.errors: list[str] = []
        self.changed_ids: list[int] = []
        self.requests_at_start = client.requests_made

    def run(self, windows: Sequence[Window]) -> None:
        for window in windows:
            self.sweep_window(window)

    def sweep_window(self, window: Window) -> None:
        limit = self.settings.esearch_limit
        result = self.client.esearch(
            self.protocol.query,
            mindate=window.mindate,
            maxdate=window.maxdate,
            datetype=window.datetype,
            usehistory=True,
            retmax=limit,
        )
        if result.count > limit:
            if window.days < 2:
                self.errors.append(
                    f"{window} holds {result.count} records, more than the retrieval cap of "
                    f"{limit}; only the first {limit} were fetched"
                )
            else:
                # Parts sized for ~80% of the cap each, assuming records spread evenly over
                # the days; a part that still overflows is split again.
                parts = math.ceil(result.count / (limit * 0.8))
                log.info("window %s has %d records: splitting in %d", window, result.count, parts)
                for part in window.split(parts):
                    self.sweep_window(part)
                return
        ids = list(dict.fromkeys(result.ids))[:limit]
        self.found.update(ids)
        self._report_progress()
        todo = [pmid for pmid in ids if pmid not in self.done]
        size = self.settings.efetch_batch_size
        if len(todo) == len(ids) and result.webenv and result.query_key:
            for start in range(0, len(ids), size):
                expected = ids[start : start + size]
                body = self.client.efetch_history(
                    result.webenv, result.query_key, retstart=start, retmax=size
                )
                self.store_batch(body, expected)
        else:
            for start in range(0, len(todo), size):
                expected = todo[start : start + size]
                self.store_batch(self.client.efetch_ids(expected), expected)

    def store_batch(self, body: bytes, expected: list[str], retry_missing: bool = True) -> None:
        records: list[ParsedRecord] = []
        problems: list[Quarantined] = []
        deletions: list[str] = []
        try:
            for item in iter_pubmed_xml(body):
                if isinstance(item, ParsedRecord):
                    records.append(item)
                elif isinstance(item, Quarantined):
                    problems.append(item)
                elif isinstance(item, Deletion):
                    deletions.append(item.pmid)
        except PubmedXMLError as exc:
            # The client already retried truncated bodies; keep what parsed, refetch the rest.
            log.warning("batch parse stopped early: %s", exc)
        returned = {r.pmid for r in records} | {p.pmid for p in problems if p.pmid} | set(deletions)
        missing = [pmid for pmid in expected if pmid not in returned]
        wanted = set(expected)
        unmatched = [p for p in problems if p.pmid not in wanted]
        if missing and len(unmatched) >= len(missing):
            # Quarantined records whose PMID could not be read stand for the missing ones;
            # their XML is kept, so nothing is lost and refetching would only repeat them.
            self.done.update(missing)
            missing = []
        with session_scope(self.sessions) as session:
            outcome = store.store_records(
                session=session, records=records, review_id=self.review_id, sweep_id=self.sweep_id
            )
            deleted = store.mark_deleted(session=session, pmids=deletions) if deletions else 0
            for problem in problems:
                store.record_problem(
                    session=session,
                    sweep_id=self.sweep_id,
                    pmid=problem.pmid,
                    kind="quarantined",
                    reason=problem.reason,
                    xml=problem.xml,
                )
            if not (missing and retry_missing):
                for pmid in missing:
                    store.record_problem(
                        session=session,
                        sweep_id=self.sweep_id,
                        pmid=pmid,
                        kind="missing",
                        reason="listed by esearch but not returned by efetch",
                    )
            self._bump(
                session,
                fetched=len(records),
                new=outcome.counts["new"],
                updated=outcome.counts["updated"],
                unchanged=outcome.counts["unchanged"],
                deleted=deleted,
                quarantined=len(problems),
                missing=0 if retry_missing else len(missing),
            )
        self.changed_ids.extend(outcome.changed_ids)
        self.done.update(returned)
        if missing and retry_missing:
            self.store_batch(self.client.efetch_ids(missing), missing, retry_missing=False)
        elif missing:
            self.done.update(missing)
        self._report_progress()

    def _bump(self, session: Session, **deltas: int) -> None:
        sweep = session.get(Sweep, self.sweep_id)
        assert sweep is not None
        for key, delta in deltas.items():
            setattr(sweep, key, getattr(sweep, key) + delta)
        sweep.found = len(self.found)
        sweep.requests += self.client.requests_made - self.requests_at_start
        self.requests_at_start = self.client.requests_made
        sweep.heartbeat_at = utcnow()
        session.add(sweep)

    def _report_progress(self) -> None:
        if self.progress:
            self.progress(len(self.done & self.found), len(self.found))


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


def _claim_sweep(
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


def run_sweep(
    *,
    sessions: sessionmaker[Session],
    client: EutilsClient,
    protocol: Protocol,
    settings: Settings,
    full: bool = False,
    mindate: str | None = None,
    maxdate: str | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    stale_after: timedelta = timedelta(minutes=5),
) -> SweepResult:
    """Sweep one review; raises SweepError with a one-line reason when it cannot complete."""
    today = today or date.today()
    with session_scope(sessions) as session:
        review = store.ensure_review(session=session, protocol=protocol)
        assert review.id is not None
        review_id = review.id
        sweep, resumed = _claim_sweep(
            session,
            review_id=review_id,
            plan_args={"full": full, "mindate": mindate, "maxdate": maxdate},
            stale_after=stale_after,
            today=today,
            explicit=full or bool(mindate or maxdate),
        )
        assert sweep.id is not None
        sweep_id = sweep.id
        done = (
            store.pmids_seen_by_sweep(session=session, review_id=review_id, sweep_id=sweep_id)
            if resumed
            else set()
        )
        windows = windows_of(sweep)
    if resumed:
        log.info("resuming sweep %d (%d records already stored)", sweep_id, len(done))
    sweeper = _Sweeper(sessions, client, protocol, settings, sweep_id, review_id, done, progress)
    try:
        sweeper.run(windows)
    except KeyboardInterrupt:
        _finish(sessions, sweeper, "interrupted", "interrupted by the user")
        raise
    except (EutilsError, OSError) as exc:
        reason = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
        result = _finish(sessions, sweeper, "failed", reason)
        raise SweepError(f"{protocol.slug}: sweep {sweep_id} failed: {reason}") from exc
    except Exception as exc:
        _finish(sessions, sweeper, "failed", f"{exc.__class__.__name__}: {exc}".splitlines()[0])
        raise
    error = "; ".join(sweeper.errors) or None
    result = _finish(sessions, sweeper, "failed" if error else "succeeded", error)
    if error:
        raise SweepError(f"{protocol.slug}: sweep {sweep_id} incomplete: {error}")
    return result


def _finish(
    sessions: sessionmaker[Session], sweeper: _Sweeper, state: str, error: str | None
) -> SweepResult:
    with session_scope(sessions) as session:
        sweeper._bump(session)
        sweep = session.get(Sweep, sweeper.sweep_id)
        assert sweep is not None
        sweep.state = state
        sweep.error = error
        sweep.finished_at = utcnow()
        session.add(sweep)
        counts = {
            key: int(getattr(sweep, key))
            for key in (
                "found",
                "fetched",
                "new",
                "updated",
                "unchanged",
                "deleted",
                "missing",
                "quarantined",
                "requests",
            )
        }
    return SweepResult(sweeper.sweep_id, state, counts, error, list(sweeper.changed_ids))


__all__ = ["SweepResult", "format_day", "plan_sweep", "run_sweep"]
