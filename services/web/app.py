"""The FastAPI application factory; everything it needs comes in through the runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from services.db.engine import session_scope
from services.reviewing.order import RankedQueue
from services.runtime import Runtime
from services.web import errors
from services.web.access import api_review_guard, page_review_guard
from services.web.headers import SecurityHeaders
from services.web.inputs import RefuseControlCharacters
from services.web.routes import (
    alert_pages,
    api,
    docs,
    duplicates,
    exports,
    feeds,
    health,
    import_page,
    imports,
    members,
    pages,
    prisma_page,
    record_page,
    reports,
    search,
    subscriptions,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def session_secret(runtime: Runtime) -> str:
    """LIVESCREEN_SECRET_KEY, else a key generated once and kept in the database."""
    if runtime.settings.secret_key:
        return runtime.settings.secret_key
    from services.web.accounts import secret

    with session_scope(runtime.sessions) as session:
        return secret(session=session, name="session_key")


def create_app(runtime: Runtime, *, rank_ttl: float = 30.0) -> FastAPI:
    """The API and the pages; ``rank_ttl`` is how stale the cached queue order may get (seconds).

    Session cookies are ``Secure`` when the settings say so (``LIVESCREEN_SECURE_COOKIES``,
    on by default when ``LIVESCREEN_PUBLIC_URL`` is https)."""
    settings = runtime.settings
    app = FastAPI(
        title="livescreen",
        version="0.1.0",
        docs_url=None,  # served by routes.docs from local assets
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.ranked = RankedQueue(ttl=rank_ttl)
    app.state.review_cache = {}
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(runtime),
        session_cookie="livescreen_session",
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=settings.cookies_secure,
    )
    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    # Every router whose routes name a review gets the access guard (services.web.access);
    # the screening hot path checks access inside its own single thread-pool hop.
    api_guard, page_guard = [Depends(api_review_guard)], [Depends(page_review_guard)]
    app.include_router(health.router)
    app.include_router(api.hot)
    app.include_router(api.router, dependencies=api_guard)
    app.include_router(exports.router, dependencies=api_guard)
    app.include_router(members.router, dependencies=api_guard)
    app.include_router(search.api_router, dependencies=api_guard)
    app.include_router(pages.router, dependencies=page_guard)
    app.include_router(record_page.router, dependencies=page_guard)
    app.include_router(duplicates.router, dependencies=page_guard)
    app.include_router(search.page_router, dependencies=page_guard)
    app.include_router(feeds.router, dependencies=page_guard)
    app.include_router(subscriptions.router, dependencies=api_guard)
    app.include_router(alert_pages.router, dependencies=page_guard)
    app.include_router(imports.router, dependencies=api_guard)
    app.include_router(import_page.router, dependencies=page_guard)
    app.include_router(prisma_page.router, dependencies=page_guard)
    app.include_router(docs.router)
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.assets_dir()), name="docs-assets")
    app.include_router(reports.router, dependencies=api_guard)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
