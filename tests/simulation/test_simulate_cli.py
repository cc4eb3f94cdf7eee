"""``livescreen simulate`` end to end on a small real dataset from the shared data."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli import main

SMALL = "synergy-fiobyr/Donners_2021.csv"  # 258 records, 15 includes


@pytest.fixture
def donners(shared_data: Path) -> Path:
    path = shared_data / SMALL
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return path


def labels_of(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["label_included"].strip() for row in csv.DictReader(handle)]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["simulate", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_order_file_holds_every_row_once_priors_first(
    donners: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order_file = tmp_path / "order.txt"
    status, out, _ = run([str(donners), "--seed", "3", "--order-out", str(order_file)], capsys)
    assert status == 0
    rows = [int(line) for line in order_file.read_text().splitlines()]
    assert sorted(rows) == list(range(258))
    labels = labels_of(donners)
    assert labels[rows[0]] == "1" and labels[rows[1]] == "0"
    for name in ("WSS@95", "WSS@100", "RRF@10", "ATD", "stopping rule"):
        assert name in out


def test_json_output_keys_and_determinism_under_a_seed(
    donners: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first, _ = run([str(donners), "--seed", "1", "--json"], capsys)
    _, again, _ = run([str(donners), "--seed", "1", "--json"], capsys)
    data = json.loads(first)
    assert first == again
    for key in ("wss@95", "wss@100", "rrf@10", "atd", "stop", "model_version", "spec"):
        assert key in data
    assert set(data["stop"]) == {"screened", "recall", "work_saved"}
    assert data["records"] == 258 and data["includes"] == 15
    assert data["wss@95"] > 0.3  # far better than random order (0)
    assert data["stop"]["recall"] >= 0.95


def test_more_priors_are_screened_first(
    donners: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order_file = tmp_path / "order.txt"
    args = [str(donners), "--prior-included", "3", "--prior-excluded", "2"]
    status, out, _ = run([*args, "--order-out", str(order_file), "--json"], capsys)
    assert status == 0 and json.loads(out)["priors"] == 5
    rows = [int(line) for line in order_file.read_text().splitlines()]
    labels = labels_of(donners)
    assert [labels[i] for i in rows[:5]] == ["1", "1", "1", "0", "0"]


def test_plot_is_a_png(donners: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "curve.png"
    status, _, _ = run([str(donners), "--plot", str(png)], capsys)
    assert status == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("title,abstract\nA,B\n", "missing column(s) label_included (or included)"),
        ("title,label_included\nA,1\n", "missing column(s) abstract"),
        ("title,abstract,included\nA,B,0\nC,D,0\n", "no included records"),
        ("title,abstract,included\nA,B,maybe\n", "line 2: label 'maybe' is not 0/1"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    status, out, err = run([str(path)], capsys)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and str(path) in err and message in err
    assert "Traceback" not in err


def test_too_many_priors_is_a_clear_error(
    donners: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run([str(donners), "--prior-included", "99"], capsys)
    assert status == 1 and "99 prior includes" in err and err.count("\n") == 1


def test_the_console_script_runs(donners: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "simulate", str(donners), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dataset"] == "Donners_2021"
