"""The FastAPI application factory; everything it needs comes in through the runtime."""

from __future__ import annotations

from fastapi import FastAPI

from services.runtime import Runtime
from services.web.routes import health


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="livescreen",
        version="0.1.0",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.state.runtime = runtime
    app.include_router(health.router)
    return app
