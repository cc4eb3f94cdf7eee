from datetime import date

import pytest

from services.pipeline.sweep import plan_sweep
from services.pipeline.windows import Window


def test_split_covers_the_window_without_gaps_or_overlap() -> None:
    window = Window(date(2020, 1, 1), date(2020, 12, 31), "edat")
    for parts in (2, 3, 7, 366, 1000):
        pieces = window.split(parts)
        assert pieces[0].start == window.start and pieces[-1].end == window.end
        assert sum(p.days for p in pieces) == window.days
        for left, right in zip(pieces, pieces[1:], strict=False):
            assert (right.start - left.end).days == 1
        assert all(p.datetype == "edat" for p in pieces)


def test_single_day_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="single day"):
        Window(date(2020, 1, 1), date(2020, 1, 1)).split()


def test_first_sweep_is_full_and_later_ones_overlap_the_last_success_by_a_day() -> None:
    today = date(2026, 11, 30)
    first = plan_sweep(last_success=None, full=False, mindate=None, maxdate=None, today=today)
    assert first.full and [str(w) for w in first.windows] == ["edat 1781/01/01-2026/11/30"]

    class Last:
        maxdate = "2026/11/20"

    later = plan_sweep(last_success=Last(), full=False, mindate=None, maxdate=None, today=today)  # type: ignore[arg-type]
    assert not later.full
    assert [str(w) for w in later.windows] == [
        "edat 2026/11/19-2026/11/30",
        "mdat 2026/11/19-2026/11/30",
    ]
    forced = plan_sweep(
        last_success=Last(), full=True, mindate="2020/01/01", maxdate=None, today=today
    )  # type: ignore[arg-type]
    assert forced.full and forced.windows[0].mindate == "2020/01/01"
