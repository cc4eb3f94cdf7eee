"""Screening in a process of its own, so that a sweep parses and stores on one core while
its records are screened on another.

The criteria are pure Python and hold the GIL: in the sweep's process, fetching,
parsing, storing and screening take turns on one core, and a sweep stayed near
1,000 records/s on a machine with two. Here one child process holds the review's
screener (built once, in the child) and screens whole batches; the sweep's process
reads the records, hands their fields over, and writes the verdicts that come back,
so every database write stays in the sweep's process and its transactions.

The child is started with ``spawn`` (the sweep's process runs threads, which ``fork``
would copy in whatever state they are in) and only where a process may have
children: not inside a daemonic process such as a Celery prefork child, which then
screens in-process as before. ``LIVESCREEN_SCREEN_PROCESS=off`` turns it off.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from classifiers.screen import Screener
from services.pipeline.screen import ScreenLimits, Verdicts, build_screener, screen_one
from services.protocols import Protocol

# The child's screener: a child process exists to hold exactly one (set by its initializer).
_child_screener: Screener | None = None


def _start_child(protocol: Protocol) -> None:
    global _child_screener
    _child_screener = build_screener(protocol)


def _screen_in_child(datas: Sequence[dict[str, Any]], limits: ScreenLimits) -> list[Verdicts]:
    assert _child_screener is not None, "the screening process was not initialised"
    return [screen_one(_child_screener, data, limits=limits) for data in datas]


def may_use_a_process(setting: str) -> bool:
    """Whether to screen in a child: ``on``, or ``auto`` with two or more cores, and never
    from a daemonic process (which may not have children)."""
    if setting == "off" or multiprocessing.current_process().daemon:
        return False
    return setting == "on" or (os.cpu_count() or 1) >= 2


class ScreeningProcess:
    """One child process screening batches for one protocol; close it when done."""

    def __init__(self, protocol: Protocol) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(protocol,),
        )

    def submit(
        self, datas: Sequence[dict[str, Any]], limits: ScreenLimits
    ) -> Future[list[Verdicts]]:
        return self._pool.submit(_screen_in_child, list(datas), limits)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
