"""Without matplotlib, --plot is a one-line hint to install the extra."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from services.cli import main


def test_plot_without_matplotlib_says_how_to_install(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    status = main(
        [
            "simulate",
            str(shared_data / "synergy-fiobyr/Donners_2021.csv"),
            "--plot",
            str(tmp_path / "x.png"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "pip install 'livescreen[plots]'" in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
