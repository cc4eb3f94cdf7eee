"""Input bounds the databases impose, checked before a query is built: a 4xx, never a 500.

PostgreSQL's ``integer`` ids stop at 2**31 - 1 and its text cannot hold NUL; SQLite's
integers stop at 2**63 - 1. A value past either would reach the driver and fail there, as
a 500 that also drops the keep-alive connection, so ids and pages are bounded here and
text fields refuse control characters with a message naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, Field
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_ID = 2**31 - 1  # PostgreSQL integer; the ids of every table
MAX_PAGE = 1_000_000  # far past any review's last page; keeps offsets small

# C0 controls but tab, line feed and carriage return, plus DEL.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_FREE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # the same, as a documented pattern
SLUG = r"^[a-z0-9][a-z0-9-]{0,99}$"  # as protocols name their reviews
USER_NAME = r"^[^\W_][\w.@+-]{0,99}$"  # as services.web.accounts.check_name

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="a record id")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Slug = Annotated[str, Path(pattern=SLUG, description="the review's slug")]
UserName = Annotated[str, Path(pattern=USER_NAME, description="a user name")]


def control_free(value: str) -> str:
    """Pydantic check for a text field; the message says which character is refused."""
    found = _CONTROLS.search(value)
    if found:
        raise ValueError(
            f"contains the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; text may not contain control characters"
        )
    return value


# Checked by the validator (a message naming the character); the pattern documents it.
SafeText = Annotated[
    str, AfterValidator(control_free), Field(json_schema_extra={"pattern": CONTROL_FREE})
]


def clean_form_text(value: str, field: str) -> str:
    """The same check for a form field of a page, as a 422 naming the field."""
    try:
        return control_free(value)
    except ValueError as exc:
        raise HTTPException(422, f"{field}: {exc}") from None


class RefuseControlCharacters:
    """422 for a request whose path or query string holds a control character (``%00``...).

    Covers every path and query parameter (slugs, searches) in one place, before routing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope.get("path", "").encode()
            query = scope.get("query_string", b"")
            if _has_control(raw) or _has_control(query.replace(b"+", b" ")):
                response = JSONResponse(
                    {"detail": "the address holds a control character (such as %00); remove it"},
                    status_code=422,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _has_control(part: bytes) -> bool:
    if b"%" not in part and not _CONTROLS.search(part.decode("latin-1")):
        return False
    return bool(_CONTROLS.search(unquote_to_bytes(part).decode("latin-1")))
