"""A PostgreSQL restart costs reviewers no failed request.

A real uvicorn server over a real PostgreSQL engine; between two rounds of
screening every pooled session is ended by the server (``pg_terminate_backend`` from
another connection, as a restart does), and the next requests, one at a time and
several at once, all succeed on new connections.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from tests.db.backends import backend_pids, tagged, terminate
from tests.web import factories as f
from tests.web.conftest import Env

Client = Callable[..., httpx.Client]


@pytest.fixture
def named_url(postgres_url: str) -> tuple[str, str]:
    """PostgreSQL only (SQLite has no server to restart), its sessions named for this test."""
    return tagged(postgres_url)


@pytest.fixture
def database_url(named_url: tuple[str, str]) -> str:
    """The URL the ``env`` fixture builds the app's engine from."""
    return named_url[0]


@pytest.fixture
def admin(postgres_server: str) -> sa.Engine:
    return sa.create_engine(postgres_server)


def screen_one(api: httpx.Client) -> None:
    claimed = api.post("/api/v1/reviews/micro/next")
    assert claimed.status_code == 200, claimed.text
    decided = api.post(
        f"/api/v1/reviews/micro/records/{claimed.json()['id']}/decisions",
        json={"decision": "include"},
    )
    assert decided.status_code == 201, decided.text


def test_requests_after_the_server_ends_every_connection_all_succeed(
    env: Env, client_for: Client, admin: sa.Engine, named_url: tuple[str, str]
) -> None:
    name = named_url[1]
    proto = f.protocol()
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        f.records(s, rev, 8)
        tokens = [f.user(s, reviewer) for reviewer in ("alice", "bob", "carol", "dave")]
        s.commit()
    apis = [client_for(token) for token in tokens]
    try:
        with ThreadPoolExecutor(len(apis)) as pool:  # several pooled connections in use
            list(pool.map(screen_one, apis))
        ended = terminate(admin, name)
        assert ended, "the server had no sessions of this test to end"

        assert apis[0].get("/healthz").json()["status"] == "ok"
        screen_one(apis[0])
        with ThreadPoolExecutor(len(apis)) as pool:
            answers = list(pool.map(lambda api: api.get("/api/v1/reviews"), apis))
        assert [a.status_code for a in answers] == [200] * len(apis), [a.text for a in answers]
        assert answers[0].json()[0]["counts"]["remaining"] == 8 - len(apis) - 1
        assert backend_pids(admin, name).isdisjoint(ended)
    finally:
        admin.dispose()
