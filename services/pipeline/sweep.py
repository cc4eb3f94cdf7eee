"""One sweep of a review's PubMed query into the store: search windows, fetch, parse, upsert.

Why it is shaped like this:
- PubMed returns at most ``esearch_limit`` (9,999) records of one search, so a
  window holding more is split by dates until every part fits.
- The first sweep is full; later ones search records entered (edat) or revised
  (mdat) since the last successful sweep, overlapping it by a day (``resume.py``).
- Every batch commits with the sweep's counters and heartbeat, so a killed sweep
  loses at most one batch; run again, it resumes the same sweep row and skips the
  PMIDs it already stored.
- Nothing is lost and nothing is hidden: a body that breaks is split until the bad
  record stands alone (``fetch.py``); what esearch listed and no efetch returned
  becomes a gap that the next sweeps ask for again (``gaps.py``); and a sweep that
  ends with gaps or unscreened records says so in its state, ``succeeded_with_gaps``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Protocol as Interface

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from services.db.engine import session_scope
from services.db.models import Sweep, utcnow
from services.errors import SweepError, SweepOverflow
from services.protocols import Protocol
from services.pubmed.client import EutilsClient, EutilsError
from services.settings import Settings

from . import gaps, store
from .fetch import Batch, read_batch
from .gaps import Gap
from .prefetch import Emit, prefetched
from .result import COUNTS, SweepResult
from .resume import claim_sweep, plan_sweep, windows_of
from .screen import ScreenOutcome, one_line
from .windows import Window, format_day

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (records processed, records found so far)


class SweepScreen(Interface):
    """Screening as a sweep drives it: each stored batch's changed records, then the rest."""

    def batch(self, record_ids: list[int]) -> None: ...

    def finish(self) -> ScreenOutcome: ...


Fetched = tuple[Batch, list[Gap], list[str]]  # a parsed answer, its gaps, the PMIDs asked for
PREFETCH_BATCHES = 2  # how far fetching may run ahead of storing
SUCCEEDED, WITH_GAPS, FAILED = "succeeded", "succeeded_with_gaps", "failed"


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
        screen: SweepScreen | None = None,
    ) -> None:
        self.sessions = sessions
        self.screen = screen
        self.client = client
        self.protocol = protocol
        self.settings = settings
        self.sweep_id = sweep_id
        self.review_id = review_id
        self.done = done  # PMIDs stored (or recorded as gaps) by this sweep
        self.found: set[str] = set(done)
        self.emitted: set[str] = set()  # PMIDs the fetching thread has handed over
        self.lock = threading.Lock()  # done and found are shared with the fetching thread
        self.progress = progress
        self.errors: list[str] = []
        self.overflows: list[str] = []  # days over the retrieval cap: no retry cures them
        self.changed_ids: list[int] = []
        self.requests_at_start = client.requests_made

    def run(self, windows: Sequence[Window], *, retry_given_up: bool) -> None:
        """Fetch and parse in a thread of its own while this one stores and commits each batch.

        Parsing goes with the fetching so that lxml's parsing and the waits on NCBI
        overlap the database's work (SQLite and the PostgreSQL driver let the other
        thread run while a statement executes); nothing is stored by that thread, so a
        kill still loses at most the batches not yet committed.
        """

        def produce(emit: Emit[Fetched]) -> None:
            for window in windows:
                self.sweep_window(window, emit)

        with prefetched(produce, depth=PREFETCH_BATCHES, name="sweep-fetch") as batches:
            for batch, found_gaps, expected in batches:
                self.store_batch(batch, found_gaps, expected)
        self.retry_gaps(include_given_up=retry_given_up)

    def sweep_window(self, window: Window, emit: Emit[Fetched]) -> None:
        """Search one window (split while it overflows the cap) and emit its efetch bodies."""
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
                self.overflows.append(
                    f"{window} holds {result.count} records, more than the retrieval cap of "
                    f"{limit}; only the first {limit} were fetched (narrow the protocol's "
                    "query: one day cannot be split further)"
                )
            else:
                # Parts sized for ~80% of the cap each, assuming records spread evenly over
                # the days; a part that still overflows is split again.
                parts = math.ceil(result.count / (limit * 0.8))
                log.info("window %s has %d records: splitting in %d", window, result.count, parts)
                for part in window.split(parts):
                    self.sweep_window(part, emit)
                return
        ids = list(dict.fromkeys(result.ids))[:limit]
        with self.lock:
            self.found.update(ids)
        # PMIDs already handed to the storing thread count as done: an incremental sweep's
        # mdat window lists every new record its edat window has just fetched.
        with self.lock:
            todo = [pmid for pmid in ids if pmid not in self.done and pmid not in self.emitted]
            self.emitted.update(todo)
        size = self.settings.efetch_batch_size
        if len(todo) == len(ids) and result.webenv and result.query_key:
            for start in range(0, len(ids), size):
                expected = ids[start : start + size]
                body = self.client.efetch_history(
                    result.webenv, result.query_key, retstart=start, retmax=size
                )
                emit((*self.read(body, expected), expected))
        else:
            for start in range(0, len(todo), size):
                expected = todo[start : start + size]
                emit((*self.read(self.client.efetch_ids(expected), expected), expected))

    def retry_gaps(self, *, include_given_up: bool) -> None:
        """Ask once more for the gaps earlier sweeps left (not already handled by this one)."""
        with session_scope(self.sessions) as session:
            pmids = gaps.gaps_to_retry(
                session=session, review_id=self.review_id, include_given_up=include_given_up
            )
        todo = [pmid for pmid in pmids if pmid not in self.done]
        if todo:
            log.info("asking again for %d PMIDs earlier sweeps could not store", len(todo))
        size = self.settings.efetch_batch_size
        for start in range(0, len(todo), size):
            expected = todo[start : start + size]
            body = self.client.efetch_ids(expected)
            self.store_batch(*self.read(body, expected, retry_missing=False), expected)

    def read(
        self, body: bytes, expected: list[str], retry_missing: bool = True
    ) -> tuple[Batch, list[Gap]]:
        """Parse one efetch answer (refetching around breaks) and name its gaps; no storing."""
        batch = read_batch(body, expected, self.client.efetch_ids)
        wanted = set(expected)
        found_gaps = gaps.pair_unreadable(batch, wanted)
        if batch.missing and retry_missing:
            # PubMed sometimes leaves records out of one answer; ask for those once more.
            again = read_batch(
                self.client.efetch_ids(batch.missing), batch.missing, self.client.efetch_ids
            )
            batch.missing = []
            batch.add(again)
        found_gaps += gaps.gaps_of_batch(batch, wanted)
        return batch, found_gaps

    def store_batch(self, batch: Batch, found_gaps: list[Gap], expected: list[str]) -> None:
        """Store one parsed answer; every PMID of ``expected`` ends stored or a recorded gap."""
        with session_scope(self.sessions) as session:
            outcome = store.store_records(
                session=session,
                records=batch.records,
                review_id=self.review_id,
                sweep_id=self.sweep_id,
            )
            deleted = store.mark_deleted(session=session, pmids=batch.deletions)
            self._record_problems(session, batch)
            recovered = gaps.resolve_gaps(
                session=session,
                review_id=self.review_id,
                sweep_id=self.sweep_id,
                pmids=outcome.stored_pmids | set(batch.deletions),
            )
            given_up = gaps.note_gaps(
                session=session,
                review_id=self.review_id,
                sweep_id=self.sweep_id,
                gaps=found_gaps,
                limit=self.settings.gap_attempts,
            )
            self._bump(
                session,
                fetched=len(batch.records),
                new=outcome.counts["new"],
                updated=outcome.counts["updated"],
                unchanged=outcome.counts["unchanged"],
                deleted=deleted,
                quarantined=len(batch.problems) + len(batch.broken),
                missing=len(batch.missing),
                given_up=given_up,
                recovered=recovered,
            )
        self.changed_ids.extend(outcome.changed_ids)
        if self.screen is not None:
            self.screen.batch(outcome.changed_ids)  # while the fetching thread goes on
        with self.lock:
            self.done.update(expected)
            self.done.update(batch.returned())
        self._report_progress()

    def _record_problems(self, session: Session, batch: Batch) -> None:
        """This sweep's own account of what it could not store, with the bytes to look at."""
        for problem in batch.problems:
            store.record_problem(
                session=session,
                sweep_id=self.sweep_id,
                pmid=problem.pmid,
                kind="quarantined",
                reason=problem.reason,
                xml=problem.xml,
            )
        for broken in batch.broken:
            store.record_problem(
                session=session,
                sweep_id=self.sweep_id,
                pmid=broken.pmid,
                kind="quarantined",
                reason=broken.reason,
                raw=broken.raw,
            )
        for pmid in batch.missing:
            store.record_problem(
                session=session,
                sweep_id=self.sweep_id,
                pmid=pmid,
                kind="missing",
                reason=gaps.MISSING_REASON,
            )

    def _bump(self, session: Session, **deltas: int) -> None:
        sweep = session.get(Sweep, self.sweep_id)
        assert sweep is not None
        for key, delta in deltas.items():
            setattr(sweep, key, getattr(sweep, key) + delta)
        with self.lock:
            sweep.found = len(self.found)
        sweep.requests += self.client.requests_made - self.requests_at_start
        self.requests_at_start = self.client.requests_made
        sweep.heartbeat_at = utcnow()
        session.add(sweep)

    def _report_progress(self) -> None:
        if self.progress:
            with self.lock:
                handled, found = len(self.done & self.found), len(self.found)
            self.progress(handled, found)


def run_sweep(
    *,
    sessions: sessionmaker[Session],
    client: EutilsClient,
    protocol: Protocol,
    settings: Settings,
    full: bool = False,
    mindate: str | None = None,
    maxdate: str | None = None,
    retry_gaps: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
    screen: SweepScreen | None = None,
    stale_after: timedelta = timedelta(minutes=5),
) -> SweepResult:
    """Sweep one review; raises SweepError with a one-line reason when it cannot complete.

    Open gaps of earlier sweeps are asked for again; ``retry_gaps`` asks for the
    given-up ones too. ``screen`` screens each stored batch, then finishes before the
    sweep does (also after a failure, since the records kept count); its outcome is
    part of the state.
    """
    today = today or date.today()
    with session_scope(sessions) as session:
        review = store.ensure_review(session=session, protocol=protocol)
        assert review.id is not None
        review_id = review.id
        sweep, resumed = claim_sweep(
            session,
            review_id=review_id,
            plan_args={"full": full, "mindate": mindate, "maxdate": maxdate},
            stale_after=stale_after,
            today=today,
            explicit=full or bool(mindate or maxdate),
        )
        assert sweep.id is not None
        sweep_id = sweep.id
        done: set[str] = set()
        if resumed:
            done = store.pmids_seen_by_sweep(
                session=session, review_id=review_id, sweep_id=sweep_id
            ) | gaps.pmids_noted_by_sweep(session=session, review_id=review_id, sweep_id=sweep_id)
        windows = windows_of(sweep)
    if resumed:
        log.info("resuming sweep %d (%d records already handled)", sweep_id, len(done))
    sweeper = _Sweeper(
        sessions, client, protocol, settings, sweep_id, review_id, done, progress, screen
    )
    try:
        sweeper.run(windows, retry_given_up=retry_gaps)
    except KeyboardInterrupt:
        _finish(sessions, sweeper, "interrupted", "interrupted by the user", None)
        raise
    except (EutilsError, OSError) as exc:
        reason = one_line(f"{exc.__class__.__name__}: {exc}")  # the cause is on the last line
        _finish(sessions, sweeper, FAILED, reason, _screen(screen))
        raise SweepError(f"{protocol.slug}: sweep {sweep_id} failed: {reason}") from exc
    except Exception as exc:
        reason = one_line(f"{exc.__class__.__name__}: {exc}")  # the cause is on the last line
        _finish(sessions, sweeper, FAILED, reason, _screen(screen))
        raise
    error = "; ".join(sweeper.errors + sweeper.overflows) or None
    result = _finish(sessions, sweeper, FAILED if error else None, error, _screen(screen))
    if sweeper.errors:
        raise SweepError(f"{protocol.slug}: sweep {sweep_id} incomplete: {error}")
    if sweeper.overflows:
        raise SweepOverflow(f"{protocol.slug}: sweep {sweep_id} incomplete: {error}")
    return result


def _screen(screen: SweepScreen | None) -> ScreenOutcome | None:
    return screen.finish() if screen is not None else None


def _finish(
    sessions: sessionmaker[Session],
    sweeper: _Sweeper,
    state: str | None,
    error: str | None,
    screening: ScreenOutcome | None,
) -> SweepResult:
    """Close the sweep row; ``state`` None means it completed: succeeded, with gaps or not."""
    with session_scope(sessions) as session:
        sweeper._bump(session)
        sweep = session.get(Sweep, sweeper.sweep_id)
        assert sweep is not None
        if screening is not None:
            sweep.screened += screening.screened
            sweep.unscreened = screening.unscreened
            sweep.screen_error = screening.error
        open_gaps = gaps.review_gaps(session=session, review_id=sweeper.review_id)
        if state is None:
            # Quarantined records whose PMID could not be read are not gaps (nothing to ask
            # for) but are still this sweep's loss, so they count too.
            with_gaps = bool(
                open_gaps or sweep.quarantined or sweep.unscreened or sweep.screen_error
            )
            state = WITH_GAPS if with_gaps else SUCCEEDED
        sweep.state = state
        sweep.error = error
        sweep.finished_at = utcnow()
        session.add(sweep)
        counts = {key: int(getattr(sweep, key)) for key in COUNTS}
        screen_error = sweep.screen_error
    return SweepResult(
        sweeper.sweep_id,
        state,
        counts,
        error,
        list(sweeper.changed_ids),
        screen_error,
        open_gaps,
    )


__all__ = ["SweepResult", "format_day", "plan_sweep", "run_sweep"]
