"""Metrics on orders small enough to compute by hand."""

from __future__ import annotations

import pytest

from classifiers import metrics

# 10 records, 2 includes at positions 1 and 4 (1-based).
ORDER = [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_recall_curve() -> None:
    assert list(metrics.recall_curve(ORDER)) == [0.5, 0.5, 0.5, 1, 1, 1, 1, 1, 1, 1]


def test_wss_at_95_and_100() -> None:
    # 95% of 2 includes needs both: 4 records screened, 6 of 10 saved.
    assert metrics.wss(ORDER, 0.95) == pytest.approx(0.6 - 0.05)
    assert metrics.wss(ORDER, 1.0) == pytest.approx(0.6)


def test_rrf_at_10_percent() -> None:
    assert metrics.rrf(ORDER, 10) == 0.5  # the first record is an include


def test_average_time_to_discovery() -> None:
    assert metrics.atd(ORDER) == pytest.approx((1 + 4) / 2 / 10)


def test_work_saved() -> None:
    assert metrics.work_saved(10, 4) == 0.6
    with pytest.raises(ValueError, match="cannot stop after 11 of 10"):
        metrics.work_saved(10, 11)


def test_an_order_without_includes_is_refused() -> None:
    with pytest.raises(ValueError, match="no includes"):
        metrics.summary([0, 0, 0])
