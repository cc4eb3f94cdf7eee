"""``livescreen users grant|revoke`` and the reviews column of ``users list``, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.cli import main
from services.db.engine import make_engine, migrate, session_factory
from services.settings import get_settings
from tests.web import factories as f


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def seed(url: str) -> None:
    """A swept review ``micro`` (the CLI runs without protocol files here)."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine)() as s:
            f.review(s, f.protocol("micro"))
            s.commit()
    finally:
        engine.dispose()


def lines(out: str) -> dict[str, str]:
    return {line.split("\t")[0]: line.split("\t")[-1] for line in out.splitlines()}


def test_grant_list_revoke(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(cli_db)
    assert main(["users", "add", "adm", "--role", "admin"]) == 0
    assert main(["users", "add", "alice"]) == 0
    assert main(["users", "add", "bob"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert set(lines(capsys.readouterr().out).values()) == {"reviews: all"}  # nobody granted
    assert main(["users", "grant", "alice", "--review", "micro", "--role", "resolver"]) == 0
    assert "'alice' is a resolver on review 'micro'" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert lines(capsys.readouterr().out) == {
        "adm": "reviews: all",
        "alice": "reviews: micro=resolver",
        "bob": "reviews: none",
    }
    assert main(["users", "revoke", "alice", "--review", "micro"]) == 0
    assert "no longer has access" in capsys.readouterr().out
    assert main(["users", "revoke", "alice", "--review", "micro"]) == 1
    assert "'alice' is not a member of review 'micro'" in capsys.readouterr().err


def test_grant_names_the_bad_input(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(cli_db)
    assert main(["users", "add", "adm", "--role", "admin"]) == 0
    assert main(["users", "add", "alice"]) == 0
    capsys.readouterr()
    assert main(["users", "grant", "alice", "--review", "nosuch"]) == 1
    assert "unknown review 'nosuch'" in capsys.readouterr().err
    assert main(["users", "grant", "nobody", "--review", "micro"]) == 1
    assert "no user named 'nobody'" in capsys.readouterr().err
    assert main(["users", "grant", "adm", "--review", "micro"]) == 1
    assert "sees every review" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["users", "grant", "alice", "--review", "micro", "--role", "admin"])
    assert "invalid choice" in capsys.readouterr().err
