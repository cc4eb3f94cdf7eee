"""The PRISMA 2020 diagram for people: a page showing it, and the SVG and PNG behind the
dashboard's links, signed in by the session cookie.

The API's ``/api/v1/reviews/{slug}/prisma.svg`` wants a bearer token, which a browser
following a link does not send; these routes serve the same document to a signed-in
session (as the dashboard's export links do), with the same rule: any signed-in user
may see it, because its numbers are the review's counts.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from services.db.reviewing import User
from services.reports.prisma import prisma_numbers
from services.reports.prisma_svg import PngUnavailable, render_png, render_svg
from services.web.auth import page_user
from services.web.deps import ReviewContext, get_session
from services.web.routes.pages import page_review
from services.web.routes.reports import PNG, SVG
from services.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/reviews/{slug}/prisma")
def prisma_page(
    request: Request,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    """The diagram inline, with its numbers as text for screen readers and copying."""
    numbers = prisma_numbers(session=session, review=ctx.review, required=ctx.required)
    return render(request, "prisma.html", {"user": user, "review": ctx, "numbers": numbers})


@router.get("/reviews/{slug}/prisma.svg")
def prisma_svg(
    ctx: ReviewContext = Depends(page_review), session: Session = Depends(get_session)
) -> Response:
    numbers = prisma_numbers(session=session, review=ctx.review, required=ctx.required)
    return Response(
        render_svg(numbers),
        media_type=SVG,
        headers={"Content-Disposition": f'inline; filename="{ctx.slug}-prisma.svg"'},
    )


@router.get("/reviews/{slug}/prisma.png")
def prisma_png(
    ctx: ReviewContext = Depends(page_review), session: Session = Depends(get_session)
) -> Response:
    """The PNG needs the server's ``plots`` extra; without it, a 501 page saying so."""
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
