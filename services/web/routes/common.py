"""What every API router documents: the one error shape and the status filter.

Kept apart from ``api`` so the routers it includes (exports, members) can use them too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Problem(BaseModel):
    """Every error the API answers: one message saying what is wrong and what to do."""

    detail: str


# Documented on every route, so the OpenAPI document says what the one error handler sends
# (``{"detail": "..."}`` for validation errors too, not FastAPI's default list).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or an invalid or disabled one"},
    403: {"model": Problem, "description": "the caller's role does not allow this"},
    404: {"model": Problem, "description": "no such review, record or user"},
    409: {"model": Problem, "description": "the record's or account's state forbids this"},
    422: {"model": Problem, "description": "the request is not valid; the detail says why"},
}

StatusFilter = Literal[
    "pending", "in_progress", "maybe", "conflict", "included", "excluded", "screened", "withdrawn"
]
