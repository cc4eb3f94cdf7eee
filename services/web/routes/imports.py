"""``POST /api/v1/reviews/{slug}/imports``: the same import as ``livescreen import``, by upload.

Admins only: an import adds records every reviewer of the review will be asked to screen.
The upload is spooled to a temporary file (the readers stream from disk, so a large file
never sits in memory) and imported in the request's worker thread.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile

from services.imports.commands import IMPORT_ERRORS, run_import
from services.runtime import Runtime
from services.web.auth import api_admin
from services.web.deps import get_runtime
from services.web.inputs import Slug
from services.web.routes.api import ERRORS

router = APIRouter(
    prefix="/api/v1", tags=["imports"], dependencies=[Depends(api_admin)], responses=ERRORS
)
Format = Literal["auto", "ris", "nbib", "pubmed-xml", "csv", "jsonl"]


@router.post("/reviews/{slug}/imports")
def import_file(
    slug: Slug,
    file: Annotated[UploadFile, File(description="RIS, nbib, PubMed XML (.gz), CSV or JSONL")],
    format: Annotated[Format, Form(description="'auto': told from the content")] = "auto",
    screen: Annotated[bool, Form(description="screen the new records at once")] = True,
    with_decisions: Annotated[
        bool, Form(description="restore the human decisions of a livescreen JSONL export")
    ] = False,
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Import a file of records into a review (admins only) and answer its report: counts
    (read, imported, new, updated, unchanged, duplicates, bad) and each bad record with its
    line or number and problem. The same file again adds nothing (``already_imported``).
    An unreadable file or one whose format cannot be told is a 422 naming the problem."""
    if slug not in runtime.protocols:
        raise HTTPException(404, f"unknown review {slug!r} (no protocol file configures it)")
    name = Path(file.filename or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="livescreen-import-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as spool:
            shutil.copyfileobj(file.file, spool, length=1 << 20)
        try:
            report = run_import(
                runtime,
                slug=slug,
                path=path,
                fmt=None if format == "auto" else format,
                screen=screen,
                file_name=name,
                with_decisions=with_decisions,
            )
        except IMPORT_ERRORS as exc:
            message = str(exc).replace(str(path), name)
            raise HTTPException(422, message) from None
    return report.to_json()
