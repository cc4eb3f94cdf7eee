"""``GET /api/v1/reviews/{slug}/prisma.svg`` (and ``.png``): the PRISMA 2020 flow diagram.

Any signed-in API user may fetch it: its numbers are the review's counts, and records in
conflict are shown only as "awaiting screening", so a blind review's reviewers learn
nothing the counts do not already tell them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlmodel import Session

from services.reports.prisma import prisma_numbers
from services.reports.prisma_svg import PngUnavailable, render_png, render_svg
from services.web.auth import api_user
from services.web.deps import ReviewContext, get_review, get_session
from services.web.routes.api import ERRORS, Problem

router = APIRouter(
    prefix="/api/v1", tags=["reports"], dependencies=[Depends(api_user)], responses=ERRORS
)
SVG, PNG = "image/svg+xml", "image/png"


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


@router.get(
    "/reviews/{slug}/prisma.png",
    response_class=Response,
    responses={
        200: {
            "description": "the same diagram as prisma.svg, rasterised (twice the SVG's size)",
            "content": {PNG: {"schema": {"type": "string", "format": "binary"}}},
        },
        501: {"model": Problem, "description": "the server lacks the plots extra (cairosvg)"},
    },
)
def prisma_png(
    ctx: ReviewContext = Depends(get_review), session: Session = Depends(get_session)
) -> Response:
    """The diagram of ``prisma.svg`` as PNG, for documents that cannot embed SVG; needs the
    ``plots`` extra on the server (501 without it)."""
    numbers = prisma_numbers(session=session, review=ctx.review, required=ctx.required)
    try:
        png = render_png(render_svg(numbers))
    except PngUnavailable as exc:
        raise HTTPException(501, str(exc)) from None
    return Response(
        png,
        media_type=PNG,
        headers={"Content-Disposition": f'inline; filename="{ctx.slug}-prisma.png"'},
    )
