"""The records list and its search, for the API and the records page.

Both read what a reviewer types through :mod:`services.search`: a query it cannot read
is a 400 whose message says what to change (shown above the results on the page), never
a silent search for something else.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints
from sqlmodel import Session

from services import reviewing, search
from services.db.reviewing import User
from services.reviewing.revisions import revised_in_review
from services.web import revision, views
from services.web.auth import api_user, page_user
from services.web.deps import ReviewContext, get_review, get_session
from services.web.inputs import PageNumber, SafeText
from services.web.routes.api import ERRORS, Problem, StatusFilter
from services.web.routes.pages import PER_PAGE, page_review
from services.web.templating import render

api_router = APIRouter(
    prefix="/api/v1",
    tags=["reviews"],
    dependencies=[Depends(api_user)],
    responses={**ERRORS, 400: {"model": Problem, "description": "the search query is malformed"}},
)
page_router = APIRouter(include_in_schema=False)

Machine = Literal["include", "exclude", "uncertain", "unscreened"]
Sort = Literal["relevance", "p_include", "newest", "year"]
CriterionVerdict = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,100}=[A-Za-z0-9_]{1,40}$")
]
Verdict = Query(
    default_factory=list,
    max_length=20,
    description="criterion=verdict, as in low_dose=not_met; repeat for several",
)


def run_search(
    *,
    session: Session,
    ctx: ReviewContext,
    user: User,
    q: str,
    status: str | None,
    machine: str | None,
    criterion: list[str],
    sort: str | None,
    offset: int,
    limit: int,
    revised: bool = False,
) -> tuple[int, list[Any]]:
    """Parse and run one search; :class:`search.QueryError` for anything malformed.

    ``revised`` keeps the records changed since a decision the viewer may know of, the
    same ones the list flags (in a blind review, a reviewer's own decisions only)."""
    only = None
    if revised:
        assert user.id is not None
        only = frozenset(
            revised_in_review(
                session=session,
                review_id=ctx.id,
                viewer=user.id,
                only_viewer=revision.blinded(ctx, user),
            )
        )
    filters = search.Filters(
        status=status,
        machine=machine,
        criteria=search.criterion_filters(criterion),
        record_ids=only,
    )
    return search.search_records(
        session=session,
        review_id=ctx.id,
        required=ctx.required,
        query=search.parse(q),
        filters=filters,
        sort=sort,
        offset=offset,
        limit=limit,
        blinding=views.blinding_for(ctx, user),
    )


@api_router.get("/reviews/{slug}/records")
def list_records(
    status: StatusFilter | None = None,
    q: SafeText | None = Query(default=None, max_length=500),
    machine: Machine | None = None,
    criterion: list[CriterionVerdict] = Verdict,
    sort: Sort | None = Query(default=None, description="relevance is the default with words"),
    revised: bool = Query(
        default=False, description="only records PubMed changed since a human decided them"
    ),
    page: PageNumber = 1,
    per_page: int = Query(default=50, ge=1, le=500),
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    """Records of the review matching a search: words in any order, "phrases", prefix*,
    author:, journal:, title:, abstract:, year:2019..2023 or year:>=2020, pmid:, doi:, nct:;
    filtered by status, machine decision, criterion verdicts and ``revised`` (changed since
    decided); newest first unless sorted.

    In a blind review a reviewer sees conflicts as in progress (filter included)."""
    try:
        total, rows = run_search(
            session=session,
            ctx=ctx,
            user=user,
            q=q or "",
            status=status,
            machine=machine,
            criterion=criterion,
            sort=sort,
            offset=(page - 1) * per_page,
            limit=per_page,
            revised=revised,
        )
    except search.QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    flagged = revision.revised_ids(
        session=session, ctx=ctx, viewer=user, records=[r[0] for r in rows]
    )
    items = []
    for record, state, p_include in rows:
        item = views.record_json(record, status=state)
        item.pop("abstract")
        item["p_include"] = p_include
        item["revised"] = record.id in flagged  # PubMed changed it since a human decision
        items.append(item)
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@page_router.get("/reviews/{slug}/records")
def records(
    request: Request,
    status: str = "",
    q: str = Query(default="", max_length=500),
    machine: str = "",
    criterion: str = Query(default="", max_length=200),
    sort: str = "",
    revised: str = "",
    page: PageNumber = 1,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    """The records page: the search box, filters, sort and one page of results."""
    allowed = ("", *reviewing.STATUSES, "screened", "withdrawn")
    if status not in allowed:
        raise HTTPException(422, f"status must be one of {', '.join(a for a in allowed if a)}")
    error, total, rows = "", 0, list[Any]()
    only_revised = revised.strip().lower() in ("true", "on", "1", "yes")
    try:
        total, rows = run_search(
            session=session,
            ctx=ctx,
            user=user,
            q=q,
            status=status or None,
            machine=machine or None,
            criterion=criterion.split() if criterion.strip() else [],
            sort=sort or None,
            offset=(page - 1) * PER_PAGE,
            limit=PER_PAGE,
            revised=only_revised,
        )
    except search.QueryError as exc:
        error = str(exc)
    pages = max(1, -(-total // PER_PAGE))
    kept = {
        "status": status,
        "q": q,
        "machine": machine,
        "criterion": criterion,
        "sort": sort,
        "revised": "true" if only_revised else "",
    }

    def link(p: int) -> str:
        return "?" + urlencode({k: v for k, v in (*kept.items(), ("page", p)) if v})

    return render(
        request,
        "records.html",
        {
            "user": user,
            "review": ctx,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "error": error,
            "revised_ids": revision.revised_ids(
                session=session, ctx=ctx, viewer=user, records=[r[0] for r in rows]
            ),
            **kept,
            "statuses": [a for a in allowed if a],
            "machines": search.records.MACHINE,
            "sorts": search.SORTS,
            "prev_link": link(page - 1) if page > 1 else None,
            "next_link": link(page + 1) if page < pages else None,
        },
        status_code=400 if error else 200,
    )
