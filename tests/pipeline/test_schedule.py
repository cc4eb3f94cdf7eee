"""When reviews are due: never swept means now; then every schedule_hours or on the protocol's
cron schedule after the last successful sweep; a running sweep is not started twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.db.models import Sweep
from services.pipeline.chain import review_id_of
from services.pipeline.schedule import due_reviews, next_due, next_sweeps
from services.protocols import Protocol, ProtocolError, load_protocol
from services.runtime import build_runtime
from services.settings import Settings

NOW = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)


def protocol(**extra: object) -> Protocol:
    return Protocol(slug="r", title="R", query="q", **extra)  # type: ignore[arg-type]


def test_next_due_from_hours_or_cron() -> None:
    last = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert next_due(protocol(), None, NOW) == NOW
    assert next_due(protocol(schedule_hours=6), last, NOW) == last + timedelta(hours=6)
    assert next_due(protocol(schedule="0 6 * * *"), last, NOW) == datetime(
        2026, 12, 2, 6, 0, tzinfo=UTC
    )


def test_a_bad_cron_expression_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('slug = "r"\ntitle = "R"\nquery = "q"\nschedule = "every morning"\n')
    with pytest.raises(ProtocolError, match="'every morning' is not a cron expression"):
        load_protocol(path)


def test_due_reviews_follow_the_last_successful_sweep(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('slug = "r"\ntitle = "R"\nquery = "q"\nschedule_hours = 12\n')
    runtime = build_runtime(Settings(database_url=database_url, protocols=[path]))
    try:
        assert due_reviews(runtime, NOW) == ["r"]  # never swept: due at once
        review_id = review_id_of(runtime, "r")
        with runtime.sessions() as s:
            s.add(
                Sweep(
                    review_id=review_id,
                    state="running",
                    mindate="2026/12/01",
                    maxdate="2026/12/02",
                    heartbeat_at=NOW - timedelta(minutes=1),
                )
            )
            s.commit()
        assert due_reviews(runtime, NOW) == []  # being swept now
        with runtime.sessions() as s:
            sweep = s.get(Sweep, 1)
            assert sweep is not None
            sweep.state, sweep.finished_at = "succeeded", NOW - timedelta(hours=11)
            s.add(sweep)
            s.commit()
        assert due_reviews(runtime, NOW) == []
        assert due_reviews(runtime, NOW + timedelta(hours=1, minutes=1)) == ["r"]
        assert next_sweeps(runtime, NOW)["r"] == NOW + timedelta(hours=1)
    finally:
        runtime.close()
