"""livescreen against ASReview LAB's default model, same datasets, priors and seeds.

    ASREVIEW=/work/asreview-venv/bin/asreview \
        .venv/bin/python -m benchmarks.asreview_benchmark [--seeds 5] [--only NAME] \
        [--asreview-cache DIR] [--asreview-only]

ASReview is never a project dependency: install it in its own venv
(``python3 -m venv /work/asreview-venv && /work/asreview-venv/bin/pip install asreview``)
and point ``ASREVIEW`` at the executable (else ``asreview`` on PATH is used). For each
dataset and seed both tools start from the same prior rows (one include, one exclude
drawn with the seed; ``asreview simulate --prior-idx ... --seed SEED``, its default
``--ai``); ASReview stops after the last include as livescreen's replay does, the
unscreened rest counts as screened last, and both orders are scored by
:mod:`classifiers.metrics`. Wall time is the whole ``asreview simulate`` process
against livescreen's features + replay in process; both are noisy on a shared machine.

ASReview's runs are slow and do not change, so ``--asreview-cache DIR`` keeps each one
as ``DIR/<asreview version>/<dataset>-seed<N>.json`` (its screening order, wall time,
priors and the dataset file's SHA-256) and reuses it while version, priors and file
match; livescreen is always run afresh. ``--asreview-only`` fills the cache without
running livescreen (e.g. once, in the background, before iterating on livescreen).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.simulate_benchmark import DEFAULT_DATA, dataset_paths, run_one
from classifiers import metrics
from classifiers.simulate import choose_priors
from services.simulation.datasets import read_csv_dataset


def find_asreview() -> str | None:
    """The asreview executable from $ASREVIEW or PATH."""
    candidate = os.environ.get("ASREVIEW") or shutil.which("asreview")
    return candidate if candidate and Path(candidate).exists() else None


def asreview_order(project: Path) -> list[int]:
    """Dataset rows in the order ASReview labelled them (priors first)."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(project) as archive:
            archive.extract("results.db", tmp)
        with sqlite3.connect(Path(tmp) / "results.db") as db:
            rows = db.execute(
                "SELECT r.dataset_row FROM results s JOIN record r ON r.record_id = s.record_id "
                "ORDER BY s.time, s.rowid"
            ).fetchall()
    return [int(row[0]) for row in rows]


def asreview_version(exe: str) -> str:
    """``asreview --version``'s version number, e.g. ``3.0.8``."""
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    words = (done.stdout or done.stderr).split()
    return words[-1] if words else "unknown"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class AsreviewCache:
    """ASReview runs on disk, one JSON per (version, dataset, seed); see the docstring."""

    def __init__(self, root: Path, version: str) -> None:
        self.dir = root / version
        self.version = version

    def _file(self, path: Path, seed: int) -> Path:
        return self.dir / f"{path.stem}-seed{seed}.json"

    def get(self, path: Path, seed: int, priors: list[int]) -> dict[str, Any] | None:
        file = self._file(path, seed)
        if not file.is_file():
            return None
        try:
            entry = json.loads(file.read_text())
        except (OSError, ValueError):
            return None
        same = (
            entry.get("version") == self.version
            and entry.get("priors") == priors
            and entry.get("sha256") == _sha256(path)
        )
        return entry if same else None

    def put(self, path: Path, seed: int, priors: list[int], run: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        entry = {
            "version": self.version,
            "dataset": path.stem,
            "seed": seed,
            "priors": priors,
            "sha256": _sha256(path),
            "order": run["order"],
            "seconds": run["seconds"],
            "cpu_seconds": run.get("cpu_seconds"),
        }
        partial = self._file(path, seed).with_suffix(".part")
        partial.write_text(json.dumps(entry))
        partial.replace(self._file(path, seed))  # atomic: a killed run leaves no torn file


def score_order(order: list[int], seconds: float, labels: np.ndarray) -> dict[str, Any]:
    """ASReview's measures: its order, the unscreened rest last, scored like livescreen."""
    seen = set(order)
    full = order + [i for i in range(len(labels)) if i not in seen]
    measures = metrics.summary(labels[full])
    return {**measures, "seconds": seconds, "screened": len(order)}


def run_asreview(exe: str, path: Path, priors: list[int], seed: int) -> dict[str, Any]:
    """One ``asreview simulate``: its screening order and wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "run.asreview"
        command = [exe, "simulate", str(path), "--prior-idx", *map(str, priors)]
        command += ["--seed", str(seed), "-o", str(project)]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(  # cwd: asreview leaves a cache file in its working directory
            command, capture_output=True, text=True, check=False, cwd=tmp
        )
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        if done.returncode != 0:
            raise RuntimeError(f"asreview failed on {path.name}: {done.stderr.strip()[-300:]}")
        order = asreview_order(project)
    return {"order": order, "seconds": seconds, "cpu_seconds": cpu}


def asreview_run(
    exe: str,
    cache: AsreviewCache | None,
    path: Path,
    priors: list[int],
    seed: int,
    labels: np.ndarray,
) -> dict[str, Any]:
    """ASReview's measures for one dataset and seed, from the cache when it has them."""
    run = cache.get(path, seed, priors) if cache else None
    cached = run is not None
    if run is None:
        run = run_asreview(exe, path, priors, seed)
        if cache:
            cache.put(path, seed, priors, run)
    measures = score_order(run["order"], run["seconds"], labels)
    return {**measures, "cpu_seconds": run.get("cpu_seconds"), "cached": cached}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, action="append", help="run only this seed (repeatable)")
    parser.add_argument("--only", action="append")
    parser.add_argument("--json", type=Path, help="write every pair of runs here")
    parser.add_argument("--asreview-cache", type=Path, help="reuse ASReview runs kept here")
    parser.add_argument(
        "--asreview-only", action="store_true", help="only run (and cache) ASReview"
    )
    args = parser.parse_args(argv)
    exe = find_asreview()
    if exe is None:
        print("asreview not found: set ASREVIEW or put it on PATH (see the docstring)")
        return 0
    cache = (
        AsreviewCache(args.asreview_cache, asreview_version(exe)) if args.asreview_cache else None
    )
    pairs: list[dict[str, Any]] = []
    for path in dataset_paths(args.data):
        if args.only and not any(part in path.stem for part in args.only):
            continue
        dataset = read_csv_dataset(path)
        labels = np.asarray(dataset.labels)
        for seed in args.seed or range(args.seeds):
            priors = choose_priors(labels, 1, 1, seed)
            theirs = asreview_run(exe, cache, path, priors, seed, labels)
            if args.asreview_only:
                print(json.dumps({"dataset": dataset.name, "seed": seed, **theirs}), flush=True)
                continue
            ours = run_one(dataset, seed)
            pairs.append(
                {"dataset": dataset.name, "seed": seed, "livescreen": ours, "asreview": theirs}
            )
            print(json.dumps(pairs[-1]), file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(pairs, indent=1))
    if pairs:
        print_table(pairs)
    return 0


def print_table(pairs: list[dict[str, Any]]) -> None:
    """Per dataset and overall: the means of both tools, and how many times faster we are.

    ``x wall`` is ASReview's wall time over livescreen's, ``x cpu`` the same for CPU
    time (user + system; steadier than wall time when other jobs share the machine).
    A cached ASReview run keeps the times of the run that filled the cache.
    """
    head = f"{'dataset':26s} {'WSS@95 ls/asr':>13s} {'RRF@10 ls/asr':>13s} {'ATD ls/asr':>11s}"
    print(head + f" {'wall s ls/asr':>13s} {'x wall':>6s} {'cpu s ls/asr':>13s} {'x cpu':>6s}")
    names = list(dict.fromkeys(p["dataset"] for p in pairs))

    def mean(rows: list[dict[str, Any]], tool: str, key: str) -> float:
        return statistics.mean(r[tool][key] for r in rows)

    def total(rows: list[dict[str, Any]], tool: str, key: str) -> float | None:
        values = [r[tool].get(key) for r in rows]
        return None if any(v is None for v in values) else sum(values)

    def ratio(rows: list[dict[str, Any]], key: str) -> tuple[str, str]:
        ls, asr = total(rows, "livescreen", key), total(rows, "asreview", key)
        if ls is None or asr is None or ls <= 0:
            return f"{'-':>13s}", f"{'-':>6s}"
        n = len(rows)
        return f"{ls / n:6.1f}/{asr / n:6.1f}", f"{asr / ls:6.1f}"

    def line(name: str, rows: list[dict[str, Any]]) -> str:
        cells = [
            f"{mean(rows, 'livescreen', k):.3f}/{mean(rows, 'asreview', k):.3f}"
            for k in ("wss@95", "rrf@10", "atd")
        ]
        wall, wall_x = ratio(rows, "seconds")
        cpu, cpu_x = ratio(rows, "cpu_seconds")
        return (
            f"{name:26s} {cells[0]:>13s} {cells[1]:>13s} {cells[2]:>11s} "
            f"{wall:>13s} {wall_x} {cpu:>13s} {cpu_x}"
        )

    for name in names:
        print(line(name, [p for p in pairs if p["dataset"] == name]))
    if not pairs:
        return
    print(line("MEAN", pairs))

    def gap(name: str) -> float:
        rows = [p for p in pairs if p["dataset"] == name]
        return mean(rows, "livescreen", "wss@95") - mean(rows, "asreview", "wss@95")

    below = [n for n in names if gap(n) < -0.02]
    print(
        f"datasets more than 0.02 below ASReview on WSS@95: {len(below)}"
        + "".join(f"; {n} {gap(n):+.3f}" for n in below)
    )
    worst = min(names, key=gap)
    print(f"largest WSS@95 gap (livescreen - asreview): {worst} {gap(worst):+.3f}")
    ours = [p["livescreen"] for p in pairs]
    stopped = [r for r in ours if r["stop_screened"] is not None]
    good = [r for r in stopped if r["stop_recall"] >= 0.95]
    saved = statistics.mean(r["stop_work_saved"] for r in stopped) if stopped else 0.0
    print(
        f"livescreen stopping rule: {len(good)}/{len(ours)} runs stopped at >= 95% recall "
        f"({len(ours) - len(stopped)} never stopped); mean work saved when stopping {saved:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
