"""How humans screen: the queue's order, claims with leases, decisions, statuses, conflicts.

Every function takes ``session=`` keyword-only and leaves committing to the
caller, so one request is one transaction and nothing is ever half-written.
Each module has one job: ``order`` (which record next), ``claims`` (who holds
it), ``decisions`` (what a reviewer said), ``status`` (where each record stands
and the counts), ``conflicts`` (disagreements and their resolution),
``machine`` (the machine screening shown with a record) and ``errors``.
"""

from services.reviewing.claims import (
    Claimed,
    claim_next,
    claim_of,
    held_claim,
    renew,
    skip,
)
from services.reviewing.conflicts import (
    conflicts,
    decisions_of,
    is_party,
    party_records,
    resolution_of,
    resolve,
)
from services.reviewing.decisions import (
    current_decision,
    record_decision,
    undo_last,
    validate_decision,
)
from services.reviewing.errors import InvalidDecision, NotClaimed, QueueError, StateConflict
from services.reviewing.machine import machine_screening, screenings_of
from services.reviewing.order import RankedQueue, Ranking, rank_queue
from services.reviewing.status import (
    STATUSES,
    Blinding,
    counts,
    list_records,
    record_status,
    records_query,
    status_columns,
)

__all__ = [
    "STATUSES",
    "Blinding",
    "Claimed",
    "InvalidDecision",
    "NotClaimed",
    "QueueError",
    "Ranking",
    "RankedQueue",
    "StateConflict",
    "claim_next",
    "claim_of",
    "conflicts",
    "counts",
    "current_decision",
    "decisions_of",
    "held_claim",
    "is_party",
    "list_records",
    "machine_screening",
    "party_records",
    "rank_queue",
    "record_decision",
    "record_status",
    "records_query",
    "renew",
    "resolution_of",
    "resolve",
    "screenings_of",
    "skip",
    "status_columns",
    "undo_last",
    "validate_decision",
]
