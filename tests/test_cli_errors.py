"""The command line answers bad input with one line naming the file or setting, never a
traceback, and goes on with the good part of an input file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli import main
from services.settings import get_settings


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


LINES = (
    b'\xef\xbb\xbf{"id": "bom", "title": "Low-dose psilocybin versus placebo"}\n'
    b'{"id": "latin1", "title": "Psilocybine \xe0 faible dose"}\n'
    b"\x00\x01\xfe\xff binary\n"
    b'{"id": "after", "title": "Psilocybin microdosing and mood"}\n'
)


def test_classify_reads_utf8_with_a_bom_and_reports_undecodable_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env_settings: pytest.MonkeyPatch
) -> None:
    source = write(tmp_path / "in.jsonl", LINES)
    assert main(["classify", source]) == 1  # some lines were skipped
    captured = capsys.readouterr()
    ids = [json.loads(line)["id"] for line in captured.out.splitlines()]
    assert ids == ["bom", "after"]  # the BOM line is read, the line after the bad ones too
    errors = captured.err.splitlines()
    assert errors == [
        f"{source}:2: skipped: not UTF-8 text (byte 0xe0 at column 40)",
        f"{source}:3: skipped: not UTF-8 text (byte 0xfe at column 3)",
    ]


def test_evaluate_goes_on_after_undecodable_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env_settings: pytest.MonkeyPatch
) -> None:
    labelled = LINES.replace(b'"}\n', b'", "decision": "include"}\n')
    source = write(tmp_path / "labelled.jsonl", labelled)
    assert main(["evaluate", source]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert [line.split(": skipped")[0] for line in captured.err.splitlines()] == [
        f"{source}:2",
        f"{source}:3",
    ]
    assert "2" in captured.out  # the two usable records were evaluated


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("notaurl", "LIVESCREEN_DATABASE_URL 'notaurl' is not a database URL"),
        ("mysql://db/x", "LIVESCREEN_DATABASE_URL names 'mysql'; livescreen runs on SQLite"),
    ],
)
def test_a_bad_database_url_is_one_line(
    url: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    env_settings: pytest.MonkeyPatch,
) -> None:
    env_settings.setenv("LIVESCREEN_DATABASE_URL", url)
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"livescreen status: error: {expected}") and err.count("\n") == 1


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env_settings: pytest.MonkeyPatch
) -> None:
    db = write(tmp_path / "notes.db", b"these are my notes, not a database\n" * 100)
    env_settings.setenv("LIVESCREEN_DATABASE_URL", f"sqlite:///{db}")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "file is not a database" in err and db in err


def test_a_delivery_lease_shorter_than_a_send_is_refused_in_one_line_without_the_secrets(
    capsys: pytest.CaptureFixture[str], env_settings: pytest.MonkeyPatch
) -> None:
    env_settings.setenv("LIVESCREEN_DELIVERY_LEASE_SECONDS", "5")
    env_settings.setenv("LIVESCREEN_SMTP_URL", "smtp://mailer:hunter2@127.0.0.1:2525")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "livescreen status: error: Settings: LIVESCREEN_DELIVERY_LEASE_SECONDS (5) must be "
        "more than twice LIVESCREEN_ALERTS_TIMEOUT (10)\n"
    )
