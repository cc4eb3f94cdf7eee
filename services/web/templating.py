"""The Jinja2 environment and the few render helpers the error handler also needs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.web.auth import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """Built on first use, not at import, and shared: Jinja compiles each template once."""
    return Jinja2Templates(directory=str(TEMPLATES_DIR))


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "csrf_token": csrf_token(request),
        "user": None,
        "flash": request.session.pop("flash", None),
    }
    ctx.update(context or {})
    return templates().TemplateResponse(request, name, ctx, status_code=status_code)


def render_error(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "detail": detail}, status_code=status)


def render_sign_in(request: Request, *, status_code: int = 200, error: str = "") -> HTMLResponse:
    path = request.url.path
    target = path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request,
        "login.html",
        {"next": target if path not in ("/login", "/logout") else "/", "error": error},
        status_code=status_code,
    )
