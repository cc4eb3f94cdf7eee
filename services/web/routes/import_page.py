"""The admin's import page: upload a file of records from the browser and read its report.

The twin of ``POST /api/v1/reviews/{slug}/imports`` for people: the same ``run_import``
(detect, read, store, deduplicate, screen), signed in by the session cookie and guarded
by the form's CSRF token. The report (counts, each bad record with its place and problem)
is the import run's row, so it can be opened again later from the page's list of imports.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlmodel import Session, col, select

from services.db.imports import ImportRun
from services.db.reviewing import User
from services.imports.commands import IMPORT_ERRORS, run_import
from services.imports.run import COUNTS
from services.runtime import Runtime
from services.web.auth import check_csrf, page_user, require_role
from services.web.deps import ReviewContext, get_runtime, get_session
from services.web.inputs import MAX_ID
from services.web.routes.imports import Format
from services.web.routes.pages import page_review
from services.web.templating import render

router = APIRouter(include_in_schema=False)
FORMATS = ("auto", "ris", "nbib", "pubmed-xml", "csv", "jsonl")
SHOWN_PROBLEMS = 500  # a report page lists this many bad records; the count tells the rest
RECENT = 50


def recent_imports(*, session: Session, review_id: int) -> list[ImportRun]:
    return list(
        session.exec(
            select(ImportRun)
            .where(col(ImportRun.review_id) == review_id)
            .order_by(col(ImportRun.id).desc())
            .limit(RECENT)
        ).all()
    )


def run_report(run: ImportRun) -> dict[str, Any]:
    """What the report page shows of an import run's row."""
    return {
        "import_id": run.id,
        "file": run.file_name,
        "format": run.format,
        "state": run.state,
        "created_at": run.created_at.isoformat(timespec="seconds")[:19].replace("T", " "),
        **{name: int(getattr(run, name)) for name in COUNTS},
        "problems": list(run.problems or []),
    }


def page(
    request: Request,
    *,
    user: User,
    ctx: ReviewContext,
    session: Session,
    report: dict[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "imports.html",
        {
            "user": user,
            "review": ctx,
            "formats": FORMATS,
            "report": report,
            "shown_problems": SHOWN_PROBLEMS,
            "error": error,
            "runs": recent_imports(session=session, review_id=ctx.id),
        },
        status_code=status_code,
    )


@router.get("/reviews/{slug}/imports")
def imports_page(
    request: Request,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    require_role(user, "admin")
    return page(request, user=user, ctx=ctx, session=session)


@router.get("/reviews/{slug}/imports/{import_id}")
def import_report_page(
    request: Request,
    import_id: Annotated[int, PathParam(ge=1, le=MAX_ID, description="an import id")],
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    """An earlier import's report, from its row."""
    require_role(user, "admin")
    run = session.get(ImportRun, import_id)
    if run is None or run.review_id != ctx.id:
        raise HTTPException(404, f"import {import_id} is not an import of review {ctx.slug!r}")
    return page(request, user=user, ctx=ctx, session=session, report=run_report(run))


@router.post("/reviews/{slug}/imports")
def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    format: Annotated[Format, Form()] = "auto",
    with_decisions: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str, Form()] = "",
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Import the uploaded file and show its report; a file that cannot be read at all
    (unknown format, not text) is shown as an error naming the file, with status 422."""
    check_csrf(request, csrf_token)
    require_role(user, "admin")
    if ctx.slug not in runtime.protocols:
        raise HTTPException(404, f"review {ctx.slug!r} has no protocol file: nothing to import to")
    name = Path(file.filename or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="livescreen-import-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as spool:  # streamed to disk: a large file never sits in memory
            shutil.copyfileobj(file.file, spool, length=1 << 20)
        try:
            report = run_import(
                runtime,
                slug=ctx.slug,
                path=path,
                fmt=None if format == "auto" else format,
                file_name=name,
                with_decisions=with_decisions,
            ).to_json()
        except IMPORT_ERRORS as exc:
            message = str(exc).replace(str(path), name)
            session.rollback()
            return page(
                request, user=user, ctx=ctx, session=session, error=message, status_code=422
            )
    session.rollback()  # see the run the import committed in its own sessions
    return page(request, user=user, ctx=ctx, session=session, report=report)
