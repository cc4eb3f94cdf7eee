"""A review's records found by a parsed query, filtered, sorted and paged.

Built on :func:`services.reviewing.status.records_query`, so statuses (and what a blinded
reviewer may see of them) are the same as in every other listing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from services.db.dialect import dialect_name
from services.db.models import Record, ReviewRecord, Screening
from services.reviewing.status import Blinding, records_query
from services.search.fulltext import matches
from services.search.query import Identifier, Query, QueryError, Year

SORTS = ("relevance", "p_include", "newest", "year")
MACHINE = ("include", "exclude", "uncertain", "unscreened")
CRITERION = re.compile(r"^(\w+)=(\w+)$")


@dataclass(frozen=True)
class Filters:
    """What the search narrows to besides the query; ``criteria`` holds (name, verdict)."""

    status: str | None = None
    machine: str | None = None
    criteria: tuple[tuple[str, str], ...] = field(default=())
    # only these records (the "changed since decided" filter); None: no such restriction
    record_ids: frozenset[int] | None = None


def criterion_filters(raw: list[str]) -> tuple[tuple[str, str], ...]:
    """``low_dose=not_met`` strings as (criterion, verdict) pairs; QueryError if malformed."""
    pairs = []
    for item in raw:
        match = CRITERION.match(item.strip())
        if not match:
            raise QueryError(
                f"criterion filter {item!r} must read name=verdict, as in low_dose=not_met."
            )
        pairs.append((match.group(1), match.group(2)))
    return tuple(pairs)


def _identifier(term: Identifier, dialect: str) -> Any:
    if term.field == "pmid":
        return col(Record.pmid) == term.value
    if term.field == "doi":
        return sa.func.lower(sa.func.coalesce(col(Record.doi), "")) == term.value
    listed: Any
    if dialect == "postgresql":
        listed = sa.cast(sa.literal_column("records.data -> 'nct_ids'"), sa.Text)
    else:
        listed = sa.func.json_extract(col(Record.data), "$.nct_ids")
    return sa.func.upper(sa.func.coalesce(listed, "")).like(f'%"{term.value}"%')


def _year(term: Year) -> Any:
    conditions = []
    if term.low is not None:
        conditions.append(col(Record.year) >= term.low)
    if term.high is not None:
        conditions.append(col(Record.year) <= term.high)
    return sa.and_(*conditions)


def _record_conditions(query: Query, filters: Filters, dialect: str) -> list[Any]:
    """The conditions on the record's own columns: identifiers, years, the id set."""
    conditions = []
    for term in query.terms:
        if isinstance(term, Identifier):
            conditions.append(_identifier(term, dialect))
        elif isinstance(term, Year):
            conditions.append(_year(term))
    if filters.record_ids is not None:
        conditions.append(col(Record.id).in_(sorted(filters.record_ids)))
    return conditions


def search_query(
    *,
    dialect: str,
    review_id: int,
    required: int,
    query: Query,
    filters: Filters,
    sort: str | None = None,
    blinding: Blinding | None = None,
) -> Any:
    """The ordered statement of rows (Record, status, p_include)."""
    if sort is not None and sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}.")
    if filters.machine is not None and filters.machine not in MACHINE:
        raise QueryError(f"machine decision must be one of {', '.join(MACHINE)}.")
    stmt = records_query(
        review_id=review_id, required=required, status=filters.status, blinding=blinding
    )
    score = None
    if query.texts:
        matched = matches(dialect, query.texts)
        stmt = stmt.join(matched, matched.c.record_id == col(Record.id))
        score = matched.c.score
    stmt = stmt.where(*_record_conditions(query, filters, dialect))
    if filters.machine == "unscreened":
        stmt = stmt.where(col(Screening.id).is_(None))
    elif filters.machine:
        stmt = stmt.where(col(Screening.decision) == filters.machine)
    for name, verdict in filters.criteria:
        stmt = stmt.where(col(Screening.criteria)[(name, "verdict")].as_string() == verdict)
    newest = [col(ReviewRecord.added_at).desc(), col(ReviewRecord.record_id).desc()]
    sort = sort or ("relevance" if score is not None else "newest")
    if sort == "relevance" and score is not None:
        order = [score.desc(), *newest]
    elif sort == "p_include":
        order = [sa.nulls_last(col(Screening.p_include).desc()), *newest]
    elif sort == "year":
        order = [sa.nulls_last(col(Record.year).desc()), *newest]
    else:
        order = newest
    return stmt.order_by(*order)


def search_records(
    *,
    session: Session,
    review_id: int,
    required: int,
    query: Query,
    filters: Filters | None = None,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
    blinding: Blinding | None = None,
) -> tuple[int, list[tuple[Record, str, float | None]]]:
    """(total matching, one page of rows) for a parsed query."""
    dialect = dialect_name(session)
    stmt = search_query(
        dialect=dialect,
        review_id=review_id,
        required=required,
        query=query,
        filters=filters or Filters(),
        sort=sort,
        blinding=blinding,
    )
    if query.texts and dialect == "postgresql":
        # The total rides on the page as a window count: one statement, so the full-text
        # match (PostgreSQL's dearest part: a phrase re-checks every candidate's positions)
        # runs once. SQLite's FTS5 match is cheap and its window pass is not, so it counts
        # apart (measured on 100,000 records: benchmarks/search_benchmark.py).
        paged = stmt.add_columns(sa.func.count().over().label("total"))
        rows = session.execute(paged.offset(offset).limit(limit)).all()
        if not rows:  # a page past the end carries no window count: ask for it alone
            return (_count(session, stmt) if offset else 0), []
        return int(rows[0].total), [(r[0], r[1], r[2]) for r in rows]
    rows = session.execute(stmt.offset(offset).limit(limit)).all()
    filters = filters or Filters()
    if query.texts or filters.status or filters.machine or filters.criteria:
        return _count(session, stmt), [(r[0], r[1], r[2]) for r in rows]
    # Nothing asks for words, a status or a screening: count the review's records alone
    # (the full statement's status columns cost 60-80 ms on 100,000 records).
    lean = (
        sa.select(sa.func.count())
        .select_from(ReviewRecord)
        .join(Record, col(Record.id) == col(ReviewRecord.record_id))
        .where(col(ReviewRecord.review_id) == review_id)
        .where(*_record_conditions(query, filters, dialect))
    )
    return int(session.execute(lean).scalar_one()), [(r[0], r[1], r[2]) for r in rows]


def _count(session: Session, stmt: Any) -> int:
    counted = stmt.order_by(None).subquery()
    return int(session.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one())
