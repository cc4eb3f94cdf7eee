"""The recall curve of a replay against random order, with the stopping point marked.

matplotlib is an optional extra (``pip install 'livescreen[plots]'``); without it
:func:`draw_recall_curve` raises :class:`PlotUnavailable` with that one-line hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def draw_recall_curve(
    labels: Sequence[int],
    path: str | Path,
    *,
    title: str,
    stop_at: int | None,
) -> None:
    """Write a PNG: includes found against records screened, random order, stop point."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib: pip install 'livescreen[plots]'") from None
    y = np.asarray(labels)
    found = np.cumsum(y)
    screened = np.arange(1, len(y) + 1)
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    axes.plot(screened, found, label="livescreen", color="#1f6feb")
    axes.plot([0, len(y)], [0, int(y.sum())], "--", color="grey", label="random order")
    if stop_at is not None:
        axes.axvline(stop_at, color="#d1242f", linestyle=":", label=f"stop after {stop_at}")
    axes.set_xlabel("records screened")
    axes.set_ylabel("includes found")
    axes.set_title(title)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(Path(path), format="png")
    plt.close(figure)
