"""Run a producer in a thread and hand what it makes to the caller through a bounded queue.

Why: a sweep waits on NCBI (the request budget, the network) and then spends CPU
parsing, storing and screening; done in turns, the two add up. With the fetching
in a thread of its own the waits overlap the work. The queue is bounded so the
fetcher runs at most ``depth`` batches ahead: memory stays flat, and a sweep
killed at any moment loses only batches it had not stored yet, which a resumed
sweep fetches again (storing stays in the caller's thread, batch by batch).

The producer's exception is raised in the consumer's thread, so callers handle
failures as if the fetching were their own; leaving the ``with`` block (a store
error, Ctrl-C) tells the producer to stop at its next hand-over.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

T = TypeVar("T")
Emit = Callable[[T], None]

_END = object()
_POLL_SECONDS = 0.1


class _Stopped(Exception):
    """Internal: the consumer has gone; the producer unwinds quietly."""


@dataclass
class _Failure(Generic[T]):
    error: BaseException


@contextmanager
def prefetched(
    produce: Callable[[Emit[T]], None], *, depth: int = 2, name: str = "prefetch"
) -> Iterator[Iterator[T]]:
    """Items ``produce`` passes to its ``emit`` argument, in order, while it runs ahead."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def emit(item: T) -> None:
        if not hand_over(item):
            raise _Stopped

    def work() -> None:
        try:
            produce(emit)
        except _Stopped:
            return
        except BaseException as exc:  # handed to the consumer, who raises it
            hand_over(_Failure(exc))
            return
        hand_over(_END)

    def items() -> Iterator[T]:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield cast(T, item)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        yield items()
    finally:
        stop.set()
        thread.join(timeout=5 * _POLL_SECONDS)
