"""``GET /api/v1/reviews/{slug}/prisma.svg``: the review's PRISMA 2020 flow diagram.

Any signed-in API user may fetch it: its numbers are the review's counts, and records in
conflict are shown only as "awaiting screening", so a blind review's reviewers learn
nothing the counts do not already tell them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlmodel import Session

from services.reports.prisma import prisma_numbers
from services.reports.prisma_svg import render_svg
from services.web.auth import api_user
from services.web.deps import ReviewContext, get_review, get_session
from services.web.routes.api import ERRORS

router = APIRouter(
    prefix="/api/v1", tags=["reports"], dependencies=[Depends(api_user)], responses=ERRORS
)
SVG = "image/svg+xml"


@router.get(
    "/reviews/{slug}/prisma.svg",
    response_class=Response,
    responses={
        200: {
            "description": "the PRISMA 2020 flow diagram as a standalone SVG document",
            "content": {SVG: {"schema": {"type": "string"}}},
        }
    },
)
def prisma_svg(
    ctx: ReviewContext = Depends(get_review), session: Session = Depends(get_session)
) -> Response:
    """The review's PRISMA 2020 flow diagram, from the database as it is now: records
    identified per source, duplicates removed, screened, excluded per reason and included;
    laid out for an updated review (previous studies + new ones) after more than one sweep."""
    numbers = prisma_numbers(session=session, review=ctx.review, required=ctx.required)
    return Response(
        render_svg(numbers),
        media_type=SVG,
        headers={"Content-Disposition": f'inline; filename="{ctx.slug}-prisma.svg"'},
    )
