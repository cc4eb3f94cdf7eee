"""The fetching thread of a sweep: order kept, bounded run-ahead, failures and stops handed over."""

from __future__ import annotations

import threading
import time

import pytest

from services.pipeline.prefetch import Emit, prefetched


def test_items_arrive_in_order_and_the_producer_runs_at_most_depth_ahead() -> None:
    made: list[int] = []

    def produce(emit: Emit[int]) -> None:
        for i in range(6):
            made.append(i)
            emit(i)

    seen: list[tuple[int, int]] = []
    with prefetched(produce, depth=2) as items:
        for item in items:
            time.sleep(0.05)  # a slow consumer: the producer must wait, not pile up
            seen.append((item, len(made)))
    assert [item for item, _ in seen] == list(range(6))
    # while item i is consumed, at most i + 1 (in hand) + 2 (queued) + 1 (blocked in emit) exist
    assert all(made_then <= item + 4 for item, made_then in seen)


def test_a_producer_failure_is_raised_in_the_consumer_after_what_came_before() -> None:
    def produce(emit: Emit[str]) -> None:
        emit("first")
        raise ConnectionError("NCBI went away")

    got: list[str] = []
    with pytest.raises(ConnectionError, match="NCBI went away"), prefetched(produce) as items:
        for item in items:
            got.append(item)
    assert got == ["first"]


def test_leaving_early_stops_the_producer() -> None:
    finished = threading.Event()
    emitted: list[int] = []

    def produce(emit: Emit[int]) -> None:
        try:
            for i in range(1000):
                emit(i)
                emitted.append(i)
        finally:
            finished.set()

    with pytest.raises(RuntimeError, match="store failed"), prefetched(produce, depth=1) as items:
        for item in items:
            if item == 2:
                raise RuntimeError("store failed")
    assert finished.wait(2.0)
    assert len(emitted) < 10
