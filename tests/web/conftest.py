"""Fixtures for the reviewer side: a migrated database, an app, and a real server when needed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.db.engine import make_engine, migrate, session_factory
from services.protocols import Protocol
from services.runtime import Runtime
from services.settings import Settings
from services.web.app import create_app


@dataclass
class Env:
    """A migrated database and the runtime an app is built from."""

    engine: Engine
    runtime: Runtime

    def session(self) -> Session:
        return self.runtime.sessions()

    def add_protocol(self, proto: Protocol) -> None:
        self.runtime.protocols[proto.slug] = proto

    def app(self, **kwargs: Any) -> FastAPI:
        return create_app(self.runtime, **kwargs)


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    engine = make_engine(database_url)
    migrate(engine)
    settings = Settings(database_url=database_url, protocols=[], secret_key="")
    runtime = Runtime(settings, engine, session_factory(engine), {})
    try:
        yield Env(engine, runtime)
    finally:
        engine.dispose()


@pytest.fixture
def client_for(env: Env) -> Iterator[Callable[..., httpx.Client]]:
    """HTTP clients of one live server, started on first use (after the test added its rows).

    A real server rather than Starlette's TestClient, which is deprecated with httpx.
    """
    clients: list[httpx.Client] = []
    servers: list[LiveServer] = []
    base: list[str] = []

    def make(token: str | None = None) -> httpx.Client:
        if not base:
            server = LiveServer(env.app())
            base.append(server.__enter__())
            servers.append(server)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=base[0], headers=headers, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.__exit__(None, None, None)


class LiveServer:
    """uvicorn in a thread on a free port, for concurrency and browser tests."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
