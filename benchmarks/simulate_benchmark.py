"""Screening prioritisation on the 26 shared labelled datasets, several seeds each.

    .venv/bin/python -m benchmarks.simulate_benchmark [--seeds 5] [--only NAME] [--large 10000]

For every dataset and seed: one prior include and one prior exclude chosen with the
seed, the default learning cycle, and WSS@95, RRF@10, ATD, wall time (features +
replay, in process), and where the stopping rule (95% recall at 95% confidence)
stops: the share of runs that stop at >= 95% recall and the work saved when they do.
``--large N`` also times one replay of an N-record set made by concatenating the
Cohen 2006 datasets (every review's includes count as includes). Timings taken while
other jobs share the machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.ranking.features import build_features
from classifiers.simulate import choose_priors, simulate
from services.simulation.datasets import Dataset, read_csv_dataset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def dataset_paths(data: Path) -> list[Path]:
    """The 26 labelled CSVs: sr-datasets/*/*.csv and synergy-fiobyr/*.csv."""
    return sorted((data / "sr-datasets").glob("*/*.csv")) + sorted(
        p for p in (data / "synergy-fiobyr").glob("*.csv") if p.name != "synergy_dataset.csv"
    )


def run_one(dataset: Dataset, seed: int) -> dict[str, Any]:
    """One replay of ``dataset`` with priors drawn by ``seed``; measures and wall time."""
    started, cpu = time.perf_counter(), time.process_time()
    labels = np.asarray(dataset.labels)
    features = build_features(dataset.records)
    priors = choose_priors(labels, 1, 1, seed)
    result = simulate(features, labels, priors=priors)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    data = result.to_json()
    return {
        "dataset": dataset.name,
        "seed": seed,
        "priors": priors,
        "records": len(labels),
        "wss@95": data["wss@95"],
        "wss@100": data["wss@100"],
        "rrf@10": data["rrf@10"],
        "atd": data["atd"],
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "retrains": data["retrains"],
        "stop_screened": data["stop"]["screened"],
        "stop_recall": data["stop"]["recall"],
        "stop_work_saved": data["stop"]["work_saved"],
    }


def large_dataset(data: Path, size: int) -> Dataset:
    records, labels = [], []
    for path in sorted((data / "sr-datasets" / "Cohen_2006").glob("*.csv")):
        part = read_csv_dataset(path)
        records.extend(part.records)
        labels.extend(part.labels)
    if len(records) < size:
        raise SystemExit(f"only {len(records)} Cohen records, cannot build {size}")
    return Dataset(name=f"cohen-concat-{size}", records=records[:size], labels=labels[:size])


def print_table(runs: list[dict[str, Any]]) -> None:
    names = list(dict.fromkeys(r["dataset"] for r in runs))
    print(f"{'dataset':32s} {'n':>6s} {'WSS@95':>7s} {'RRF@10':>7s} {'ATD':>6s} {'sec':>6s}")
    for name in names:
        rows = [r for r in runs if r["dataset"] == name]
        print(
            f"{name:32s} {rows[0]['records']:6d} "
            f"{statistics.mean(r['wss@95'] for r in rows):7.3f} "
            f"{statistics.mean(r['rrf@10'] for r in rows):7.3f} "
            f"{statistics.mean(r['atd'] for r in rows):6.3f} "
            f"{statistics.mean(r['seconds'] for r in rows):6.2f}"
        )
    stopped = [r for r in runs if r["stop_screened"] is not None]
    good = [r for r in stopped if r["stop_recall"] >= 0.95]
    print(
        f"{'MEAN':32s} {'':6s} {statistics.mean(r['wss@95'] for r in runs):7.3f} "
        f"{statistics.mean(r['rrf@10'] for r in runs):7.3f} "
        f"{statistics.mean(r['atd'] for r in runs):6.3f} "
        f"{statistics.mean(r['seconds'] for r in runs):6.2f}"
    )
    print(
        f"stopping rule: {len(good)}/{len(runs)} runs stopped at >= 95% recall "
        f"({len(runs) - len(stopped)} never stopped); mean work saved when stopping "
        f"{statistics.mean(r['stop_work_saved'] for r in stopped) if stopped else 0:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", action="append", help="datasets whose name contains this")
    parser.add_argument("--large", type=int, default=0, help="also time an N-record replay")
    parser.add_argument("--json", type=Path, help="write every run here")
    args = parser.parse_args(argv)
    runs: list[dict[str, Any]] = []
    for path in dataset_paths(args.data):
        if args.only and not any(part in path.stem for part in args.only):
            continue
        dataset = read_csv_dataset(path)
        for seed in range(args.seeds):
            runs.append(run_one(dataset, seed))
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    if runs:
        print_table(runs)
    if args.large:
        big = run_one(large_dataset(args.data, args.large), 0)
        print(
            f"large: {big['records']} records, {big['seconds']:.1f} s wall, "
            f"{big['cpu_seconds']:.1f} s CPU, {big['retrains']} retrains, "
            f"WSS@95 {big['wss@95']:.3f}"
        )
        runs.append(big)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
