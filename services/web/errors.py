"""One error handler for the whole app: JSON for the API, an HTML page (or sign-in) for people."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.reviewing.errors import QueueError
from services.web.auth import SignInRequired

TITLES = {
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Not accepted",
}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg')}")
    return "; ".join(parts)


def render(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    from services.web.templating import render_error

    return render_error(request, status, TITLES.get(status, "Error"), detail)


def install(app: FastAPI) -> None:
    async def http_error(request: Request, exc: Any) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return render(request, exc.status_code, detail, getattr(exc, "headers", None))

    async def invalid(request: Request, exc: Any) -> Response:
        return render(request, 422, validation_message(exc))

    async def refused(request: Request, exc: Any) -> Response:
        return render(request, exc.status_code, str(exc))

    async def raced(request: Request, exc: Any) -> Response:
        return render(request, 409, "someone else changed this at the same moment; try again")

    async def sign_in(request: Request, exc: Any) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        from services.web.templating import render_sign_in

        return render_sign_in(request, status_code=401)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(QueueError, refused)
    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(sa.exc.IntegrityError, raced)
