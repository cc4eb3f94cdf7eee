"""A sweep's records screened in a child process get exactly the verdicts that screening
in the sweep's own process gives, each record once, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.db.models import Screening
from services.pipeline.jobs import SweepScreening
from services.pipeline.screen import ScreenLimits, build_screener, pending_for, screen_one
from services.pipeline.store import ensure_review, store_records
from services.records import Record as Parsed
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL, Settings

SLUG = "psilocybin-microdosing"
TEXTS = [
    ("Microdosing psilocybin: a randomised, placebo-controlled trial",
     "Adults took psilocybin 1 mg or placebo on six occasions."),
    ("Psilocybin 25 mg for depression: an open-label study", "Single arm, one session."),
    ("A survey of coffee drinking habits", "We surveyed 500 people about coffee."),
    ("Low-dose aspirin for preeclampsia", "Women were randomised to aspirin 81 mg or placebo."),
]  # fmt: skip


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    settings = Settings(
        database_url=database_url,
        protocols=[FLAGSHIP_PROTOCOL],
        screen_process="on",  # type: ignore[arg-type]
    )
    rt = build_runtime(settings)
    yield rt
    rt.close()


def store(runtime: Runtime, count: int) -> list[int]:
    records = [
        Parsed(pmid=str(47000000 + i), title=f"{TEXTS[i % 4][0]} ({i})", abstract=TEXTS[i % 4][1])
        for i in range(count)
    ]
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(SLUG))
        assert review.id is not None
        outcome = store_records(
            session=session, records=records, review_id=review.id, sweep_id=None
        )
        session.commit()
    return outcome.changed_ids


def test_batches_screened_in_a_child_match_screening_in_process(
    runtime: Runtime, tmp_path: Path
) -> None:
    ids = store(runtime, 600)
    protocol = runtime.protocol(SLUG)
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=protocol)
        expected = {
            rid: screen_one(build_screener(protocol), data, limits=ScreenLimits())
            for rid, _, _, data in pending_for(
                session=session, review=review, protocol=protocol, record_ids=ids
            )
        }
    screening = SweepScreening(runtime, SLUG)
    for start in range(0, 600, 300):  # as a sweep hands over its stored batches
        screening.batch(ids[start : start + 300])
    outcome = screening.finish()
    assert (screening.in_child, outcome.screened, outcome.unscreened) == (600, 600, 0)
    assert outcome.error is None
    with runtime.sessions() as session:
        stored = {s.record_id: s for s in session.exec(select(Screening))}
        assert session.exec(select(func.count()).select_from(Screening)).one() == 600
    assert {rid: (s.decision, s.p_include, s.criteria) for rid, s in stored.items()} == {
        rid: (v.decision, v.p_include, v.criteria) for rid, v in expected.items()
    }
    assert {s.decision for s in stored.values()} == {"include", "exclude"}


def test_small_batches_and_the_off_setting_screen_in_process(database_url: str) -> None:
    for setting, count in (("on", 50), ("off", 400)):
        rt = build_runtime(
            Settings(
                database_url=database_url,
                protocols=[FLAGSHIP_PROTOCOL],
                screen_process=setting,  # type: ignore[arg-type]
            )
        )
        try:
            ids = store(rt, count) if setting == "on" else store_more(rt, count)
            screening = SweepScreening(rt, SLUG)
            screening.batch(ids)
            outcome = screening.finish()
            assert (screening.in_child, outcome.screened) == (0, count)
        finally:
            rt.close()


def store_more(runtime: Runtime, count: int) -> list[int]:
    records = [Parsed(pmid=str(48000000 + i), title=f"Coffee survey {i}") for i in range(count)]
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(SLUG))
        assert review.id is not None
        outcome = store_records(
            session=session, records=records, review_id=review.id, sweep_id=None
        )
        session.commit()
    return outcome.changed_ids


def test_a_protocol_sent_to_another_process_builds_its_own_criteria() -> None:
    """The built criteria are a cache of this process (the text engine's plans are keyed by
    its compiled patterns): a pickled copy leaves them behind and builds them afresh."""
    import pickle

    from services.protocols import load_protocol

    protocol = load_protocol(FLAGSHIP_PROTOCOL)
    built = protocol.build_criteria()
    copy = pickle.loads(pickle.dumps(protocol))
    assert copy == protocol and copy.version == protocol.version
    assert copy._built is None
    rebuilt = copy.build_criteria()
    assert [c.name for c in rebuilt] == [c.name for c in built]
    assert all(a is not b for a, b in zip(rebuilt, built, strict=True))
