"""``livescreen simulate DATASET``: replay a labelled CSV through the ranking cycle.

Prints WSS@95, WSS@100, RRF@10, ATD and where the stopping rule would have stopped
(or the same as JSON with ``--json``), writes the screening order (0-based rows,
priors first, one per line) with ``--order-out`` and the recall curve with
``--plot``. Bad input ends in one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from services.settings import Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate", help="replay a labelled dataset through the learning cycle (WSS, RRF, ATD)"
    )
    p.add_argument("dataset", metavar="DATASET", help="CSV with title, abstract and a label")
    p.add_argument("--seed", type=int, default=0, help="seed for the priors and the model")
    p.add_argument("--prior-included", type=int, default=1, metavar="N")
    p.add_argument("--prior-excluded", type=int, default=1, metavar="N")
    p.add_argument("--order-out", metavar="FILE", help="write the screening order here")
    p.add_argument("--plot", metavar="FILE.png", help="draw the recall curve (needs [plots])")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    p.set_defaults(func=cmd_simulate)


def _fail(message: str) -> int:
    print(f"livescreen simulate: error: {message}", file=sys.stderr)
    return 1


def cmd_simulate(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Run one replay; ``settings`` is unused (simulation needs no database)."""
    from classifiers.ranking.cycle import CycleSpec
    from classifiers.ranking.features import build_features
    from classifiers.simulate import choose_priors, simulate
    from services.simulation.datasets import DatasetError, read_csv_dataset

    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return _fail("--plot needs matplotlib: pip install 'livescreen[plots]'")
    try:
        dataset = read_csv_dataset(args.dataset)
        labels = np.asarray(dataset.labels)
        priors = choose_priors(labels, args.prior_included, args.prior_excluded, args.seed)
        features = build_features(dataset.records)
    except (DatasetError, ValueError) as exc:
        return _fail(str(exc))
    spec = CycleSpec(seed=args.seed)
    show = not args.no_progress and sys.stderr.isatty() and len(labels) > 2000
    result = _run(simulate, features, labels, priors, spec, show)
    stop = result.to_json()["stop"]
    if args.order_out:
        try:
            Path(args.order_out).write_text("".join(f"{i}\n" for i in result.order))
        except OSError as exc:
            return _fail(f"{args.order_out}: cannot write ({exc.strerror})")
    if args.plot:
        from services.simulation.plot import draw_recall_curve

        try:
            draw_recall_curve(result.labels, args.plot, title=dataset.name, stop_at=result.stop_at)
        except OSError as exc:
            return _fail(f"{args.plot}: cannot write ({exc.strerror})")
    if args.json:
        print(json.dumps({"dataset": dataset.name, "seed": args.seed, **result.to_json()}))
        return 0
    m = result.measures
    print(f"{dataset.name}: {len(labels)} records, {dataset.includes} includes, seed {args.seed}")
    print(f"WSS@95  {m['wss@95']:.3f}")
    print(f"WSS@100 {m['wss@100']:.3f}")
    print(f"RRF@10  {m['rrf@10']:.3f}")
    print(f"ATD     {m['atd']:.3f}")
    if stop["screened"] is None:
        print("stopping rule: would not have stopped")
    else:
        print(
            f"stopping rule: stop after {stop['screened']} records, recall "
            f"{stop['recall']:.3f}, work saved {stop['work_saved']:.3f}"
        )
    return 0


def _run(simulate: Any, features: Any, labels: Any, priors: Any, spec: Any, show: bool) -> Any:
    if not show:
        return simulate(features, labels, priors=priors, spec=spec)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("simulating", total=len(labels))
        return simulate(
            features,
            labels,
            priors=priors,
            spec=spec,
            progress=lambda done, total: bar.update(task, completed=done),
        )
