"""Shared fixtures: real services when they are there, a clear skip (or failure) when not.

With LIVESCREEN_REQUIRE_SERVICES=1 (set by .ci/run) an absent PostgreSQL, Redis
or Chromium fails the test instead of skipping it, so CI cannot go green by
silently testing less.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "LIVESCREEN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
POSTGRES_URL = os.environ.get(
    "LIVESCREEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LIVESCREEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("LIVESCREEN_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _private_data_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that builds Settings without a database URL writes to a data folder of its own,
    never to the user's real one (``~/.local/share/livescreen``)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


def services_required() -> bool:
    return os.environ.get("LIVESCREEN_REQUIRE_SERVICES", "") not in ("", "0", "false")


def unavailable(what: str, why: str) -> None:
    """Skip, or under LIVESCREEN_REQUIRE_SERVICES fail, naming the missing service."""
    message = f"{what} unavailable: {why}"
    if services_required():
        pytest.fail(message + " (LIVESCREEN_REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        unavailable("shared data", f"{SHARED_DATA} is not a directory")
    return SHARED_DATA


def _postgres_reachable() -> str | None:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not available"
        return f"{POSTGRES_URL}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    why = _postgres_reachable()
    if why:
        unavailable("PostgreSQL", why)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database URL whose connections use a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'livescreen.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every store test runs on both supported databases."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def redis_server() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        unavailable("Redis", f"{REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist, every test that touches Redis runs on one worker, one at a time:
    Celery workers and beat, sweep locks and the shared rate limiter use fixed key names
    there, and two such tests side by side would wait on each other's locks."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "redis_server" in fixtures or item.get_closest_marker("redis") is not None:
            item.add_marker(pytest.mark.xdist_group("redis"))
