"""The API docs page, served with the Swagger UI 5 assets that the fastapi-offline package
ships (Swagger UI 5 reads the OpenAPI 3.1 FastAPI writes), so the docs work offline and
behind firewalls (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS_URL = "/api/v1/docs"
ASSETS_URL = DOCS_URL + "/assets"

router = APIRouter(include_in_schema=False)


@router.get(DOCS_URL)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="livescreen API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
    )


def assets_dir() -> str:
    """Where the installed fastapi-offline keeps Swagger UI's files."""
    import fastapi_offline

    return str(Path(fastapi_offline.__file__).resolve().parent / "static")
