"""``livescreen users``: the token is printed once, alone on the last line, and stored hashed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from services.cli import main
from services.db.engine import make_engine
from services.settings import get_settings
from services.web.accounts import hash_token


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def test_users_add_list_disable(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "add", "alice", "--role", "admin"]) == 0
    out = capsys.readouterr().out
    token = out.rstrip("\n").splitlines()[-1]
    assert len(token) > 40 and " " not in token
    engine = make_engine(cli_db)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("select token_hash, role from users")).one()
    finally:
        engine.dispose()
    assert stored == (hash_token(token), "admin") and token not in stored
    assert main(["users", "add", "alice"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    assert "alice\tadmin\tactive" in capsys.readouterr().out
    assert main(["users", "disable", "alice"]) == 1  # the last active admin
    assert "last active admin" in capsys.readouterr().err
    assert main(["users", "add", "bob", "--role", "admin"]) == 0
    assert main(["users", "disable", "alice"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert "alice\tadmin\tdisabled" in capsys.readouterr().out
    assert main(["users", "disable", "nobody"]) == 1
    assert main(["users", "enable", "alice"]) == 0
    assert main(["users", "list"]) == 0
    assert "alice\tadmin\tactive" in capsys.readouterr().out


def test_users_token_reissues_and_names_are_checked(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "add", "alice"]) == 0
    old = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert main(["users", "token", "alice"]) == 0
    new = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert new != old and len(new) > 40
    engine = make_engine(cli_db)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("select token_hash from users")).scalar_one()
    finally:
        engine.dispose()
    assert stored == hash_token(new)
    assert main(["users", "token", "nobody"]) == 1
    assert "no user named 'nobody'" in capsys.readouterr().err
    for bad in ("x/y", "two words", "", "tab\there"):
        assert main(["users", "add", bad]) == 1
        assert "not a valid user name" in capsys.readouterr().err
