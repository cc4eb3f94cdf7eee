"""Progress display for long sweeps (rich), kept out of the pipeline functions themselves."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.pipeline.sweep import Progress as ProgressCallback


@contextmanager
def sweep_progress(slug: str, *, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A callback drawing "records fetched / total" on stderr, or None when disabled."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn(f"[bold]{slug}[/bold] sweeping"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
        console=None,
    ) as bar:
        task = bar.add_task("sweep", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        yield update
