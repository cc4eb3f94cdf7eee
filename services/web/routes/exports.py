"""``GET /api/v1/reviews/{slug}/export``: a review's records as a JSONL, CSV or RIS download.

Its own router, to keep the API module to the routes people call while screening; the app
includes it with the API's access guard.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from services.db.reviewing import User
from services.pipeline import formats
from services.pipeline.formats import csv_writer
from services.web import screening
from services.web.auth import api_user
from services.web.deps import ReviewContext, get_review, get_session
from services.web.routes.common import ERRORS

router = APIRouter(
    prefix="/api/v1", tags=["reviews"], dependencies=[Depends(api_user)], responses=ERRORS
)


@router.get(
    "/reviews/{slug}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the records as a file download, in the format asked for",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/x-research-info-systems": {"schema": {"type": "string"}},
            },
        }
    },
)
def export(
    format: Literal["jsonl", "csv", "ris"] = "jsonl",
    csv_formulas: Literal["neutralise", "keep"] = Query(
        default="neutralise",
        description="csv only: cells starting with = + - @ tab or CR get a leading apostrophe "
        "so spreadsheets show them as text (OWASP); 'keep' writes them as they are",
    ),
    user: User = Depends(api_user),
    ctx: ReviewContext = Depends(get_review),
    session: Session = Depends(get_session),
) -> StreamingResponse:
    """Every record with its current decisions and final status."""
    write, media_type, ext = formats.writer(format)
    rows = list(screening.export_rows(session=session, ctx=ctx, viewer=user))
    chunks = (
        csv_writer.write(rows, neutralise=csv_formulas == "neutralise", criteria=ctx.criteria)
        if format == "csv"
        else write(rows)
    )
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{ctx.slug}.{ext}"'},
    )
