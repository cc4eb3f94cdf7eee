"""A protocol whose criteria do not build stops every command at start, in one line.

The real console commands run in subprocesses (as an operator starts them), with a
local E-utilities server standing by: a refused start must leave no database behind
and send no request, so nothing was swept before the protocol was found wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.eutils_server import FakeEutils, synthetic_record

HEADER = 'slug = "broken"\ntitle = "Broken"\nquery = "psilocybin[tiab]"\n'

# name -> (the criterion table, what the one line must say after the file name)
CASES: dict[str, tuple[str, str]] = {
    "unknown-kind": (
        '[[criteria]]\nname = "low_dose"\nkind = "dosage"\n',
        "criterion 'low_dose': unknown kind 'dosage' (known kinds: ",
    ),
    "bad-regex": (
        '[[criteria]]\nname = "psilocybin"\nkind = "substance"\nterms = ["psilo(cybin"]\n',
        "criterion 'psilocybin' (kind 'substance'): parameter 'terms': "
        "invalid regular expression 'psilo(cybin': missing ), unterminated subpattern",
    ),
    "wrong-type": (
        '[[criteria]]\nname = "low_dose"\nkind = "dose"\nmax_mg = "five"\n',
        "criterion 'low_dose' (kind 'dose'): parameter 'max_mg' must be a positive number, "
        "got 'five'",
    ),
}

BIN = Path(sys.executable).parent


def console(name: str) -> Path:
    script = BIN / name
    assert script.exists(), f"console script {script} missing: pip install -e '.[dev]'"
    return script


def refused(
    tmp_path: Path, case: str, argv: list[str], *, prefix: str
) -> tuple[str, Path, FakeEutils]:
    """Run ``argv`` against the broken protocol ``case``; its stderr once it has exited."""
    table, _ = CASES[case]
    protocol = tmp_path / f"{case}.toml"
    protocol.write_text(HEADER + table)
    database = tmp_path / "refused.db"
    with FakeEutils([synthetic_record("36000001", edat=date(2025, 5, 1))]) as fake:
        env = {
            **os.environ,
            "LIVESCREEN_DATABASE_URL": f"sqlite:///{database}",
            "LIVESCREEN_EUTILS_URL": fake.base_url,
            "LIVESCREEN_PROTOCOLS": str(protocol),
            "LIVESCREEN_BROKER_URL": "",
        }
        proc = subprocess.run(
            argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{prefix}: error: protocol file {protocol}: "), lines[0]
    assert not fake.requests, "nothing may be fetched before the protocol is validated"
    assert not database.exists(), "nothing may be stored before the protocol is validated"
    return lines[0], protocol, fake


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    "command",
    [
        ["run", "--port", "0"],
        ["serve", "--port", "0"],
        ["sweep", "--no-progress"],
        ["status"],
    ],
    ids=lambda argv: argv[0],
)
def test_each_command_refuses_a_broken_protocol_in_one_line(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    line, protocol, _ = refused(
        tmp_path, case, [str(console("livescreen")), *command], prefix=f"livescreen {command[0]}"
    )
    assert CASES[case][1] in line


@pytest.mark.parametrize("command", ["classify", "evaluate"])
def test_offline_commands_refuse_before_reading_their_input(tmp_path: Path, command: str) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text('{"title": "psilocybin", "decision": "include"}\n')
    line, _, _ = refused(
        tmp_path,
        "unknown-kind",
        [str(console("livescreen")), command, str(records)],
        prefix=f"livescreen {command}",
    )
    assert CASES["unknown-kind"][1] in line


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_worker_and_beat_refuse_in_one_line(tmp_path: Path, program: str) -> None:
    argv = [str(console("celery")), "-A", "workers.celery_app", program]
    if program == "beat":
        argv += ["--schedule", str(tmp_path / "beat-schedule")]
    else:
        argv += ["--pool", "solo"]
    line, _, _ = refused(tmp_path, "bad-regex", argv, prefix="livescreen celery")
    assert CASES["bad-regex"][1] in line
