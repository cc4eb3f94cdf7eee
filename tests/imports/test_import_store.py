"""Imports in the database (SQLite and PostgreSQL): sources kept, screened like swept
records, the same file twice adds nothing, duplicates grouped and kept out of the queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from services.cli import main
from services.db.imports import DUPLICATE, PRIMARY, SPLIT, DuplicateMember, ImportRecord, ImportRun
from services.db.models import Record, RecordVersion, ReviewRecord, Screening
from services.imports.commands import run_import
from services.pipeline.dedup import DuplicateError, list_groups, split_record
from services.pipeline.store import ensure_review, store_records
from services.records import Record as ParsedRecord
from services.reviewing.order import rank_queue
from services.runtime import Runtime, build_runtime
from services.settings import Settings, get_settings

PROTOCOL = (
    'slug = "imports"\ntitle = "Imports test"\nquery = "psilocybin"\n'
    '[[criteria]]\nname = "psilocybin"\nkind = "substance"\nterms = ["psilocybin"]\n'
)

RIS = """TY  - JOUR
TI  - Psilocybin microdosing and mood: a randomised trial
AU  - Lee, Ann
PY  - 2021
DO  - https://doi.org/10.1000/PSI.1
AB  - Psilocybin microdoses were compared with placebo.
ER  -
TY  - JOUR
AU  - Nobody, N.
ER  -
TY  - JOUR
TI  - Sleep and mood in adults
AU  - Kim, B.
PY  - 2019
ER  -
"""

NBIB = """PMID- 30000001
TI  - Psilocybin microdosing and mood - a randomised trial.
FAU - Lee, Ann
DP  - 2021 Mar
AB  - Psilocybin microdoses were compared with placebo in a trial.
"""


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    protocol = tmp_path / "imports.toml"
    protocol.write_text(PROTOCOL)
    runtime = build_runtime(Settings(database_url=database_url, protocols=[protocol]))  # type: ignore[call-arg]
    yield runtime
    runtime.close()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_keeps_its_source_screens_and_lists_bad_records(
    runtime: Runtime, tmp_path: Path
) -> None:
    report = run_import(runtime, slug=None, path=write(tmp_path, "a.ris", RIS), fmt=None).to_json()
    assert {k: report[k] for k in ("format", "read", "imported", "new", "bad", "screened")} == {
        "format": "ris", "read": 3, "imported": 2, "new": 2, "bad": 1, "screened": 2,
    }  # fmt: skip
    assert report["problems"] == [
        {"where": "line 8", "problem": "record has neither 'title' nor 'abstract'"}
    ]
    with runtime.sessions() as session:
        run = session.exec(select(ImportRun)).one()
        assert (run.file_name, run.format, run.state, run.bad) == ("a.ris", "ris", "succeeded", 1)
        assert len(run.content_hash) == 64 and run.problems == report["problems"]
        rows = session.exec(select(ImportRecord).order_by(col(ImportRecord.row))).all()
        assert sorted(r.row for r in rows) == ["line 1", "line 11"]
        keys = sorted(session.exec(select(Record.pmid)).all())
        assert keys[0].startswith("doi:") and keys[1].startswith("ref:")  # natural keys
        assert len(session.exec(select(Screening)).all()) == 2  # screened like swept records
        review_id = session.exec(select(ReviewRecord.review_id)).first()
        assert review_id is not None
        assert len(rank_queue(session=session, review_id=review_id, required=1)) == 2


def test_the_same_file_twice_adds_nothing(runtime: Runtime, tmp_path: Path) -> None:
    path = write(tmp_path, "a.ris", RIS)
    first = run_import(runtime, slug=None, path=path, fmt=None).to_json()
    again = run_import(runtime, slug=None, path=path, fmt=None).to_json()
    assert again["already_imported"] and again["import_id"] == first["import_id"]
    copy = write(tmp_path, "renamed.txt", RIS + "\n")  # other bytes, same records
    third = run_import(runtime, slug=None, path=copy, fmt="ris").to_json()
    assert (third["new"], third["unchanged"], third["updated"]) == (0, 2, 0)
    with runtime.sessions() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Record)).scalar() == 2
        assert len(session.exec(select(RecordVersion)).all()) == 2
        assert len(session.exec(select(ImportRun)).all()) == 2


def test_a_swept_record_is_not_overwritten_by_an_export_of_it(
    runtime: Runtime, tmp_path: Path
) -> None:
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(None))
        assert review.id is not None
        from services.db.models import Sweep

        sweep = Sweep(review_id=review.id, state="succeeded", mindate="2020/01/01",
                      maxdate="2020/12/31")  # fmt: skip
        session.add(sweep)
        session.flush()
        swept = ParsedRecord(pmid="30000001", title="Full PubMed title", abstract="Long.",
                             mesh_terms=["Humans"])  # fmt: skip
        store_records(session=session, records=[swept], review_id=review.id, sweep_id=sweep.id)
        session.commit()
    report = run_import(runtime, slug=None, path=write(tmp_path, "p.nbib", NBIB), fmt=None)
    assert report.counts["duplicates"] == 1 and report.counts["new"] == 0
    with runtime.sessions() as session:
        record = session.exec(select(Record)).one()
        assert record.title == "Full PubMed title" and record.data["mesh_terms"] == ["Humans"]


def test_duplicates_across_sources_are_grouped_kept_and_left_out_of_the_queue(
    runtime: Runtime, tmp_path: Path
) -> None:
    run_import(runtime, slug=None, path=write(tmp_path, "a.ris", RIS), fmt=None)
    report = run_import(runtime, slug=None, path=write(tmp_path, "p.nbib", NBIB), fmt=None)
    assert report.duplicate_groups == 1
    with runtime.sessions() as session:
        review_id = session.exec(select(ReviewRecord.review_id)).first()
        assert review_id is not None
        (view,) = list_groups(session=session, review_id=review_id)
        roles = {m["key"]: m["role"] for m in view.members}
        assert roles["30000001"] == PRIMARY  # the record with a PMID is the primary
        duplicate = next(m["record_id"] for m in view.members if m["role"] == DUPLICATE)
        queue = rank_queue(session=session, review_id=review_id, required=1)
        assert duplicate not in queue and view.primary_record_id in queue and len(queue) == 2
        assert session.execute(sa.select(sa.func.count()).select_from(Record)).scalar() == 3
        split_record(session=session, review_id=review_id, group_id=view.id, record_id=duplicate)
        session.commit()
        assert duplicate in rank_queue(session=session, review_id=review_id, required=1)
        with pytest.raises(DuplicateError, match="record 999 is not in duplicate group"):
            split_record(session=session, review_id=review_id, group_id=view.id, record_id=999)
    # deduplicating again does not put a split record back
    run_import(runtime, slug=None, path=write(tmp_path, "b.jsonl", '{"title": "x y z"}\n'),
               fmt=None)  # fmt: skip
    with Session(runtime.engine) as session:
        member = session.get(DuplicateMember, (view.id, duplicate))
        assert member is not None and member.role == SPLIT


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[Path]:
    protocol = tmp_path / "imports.toml"
    protocol.write_text(PROTOCOL)
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(protocol))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_import_report_and_duplicates_commands(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(write(cli_env, "a.ris", RIS))]) == 0
    out = capsys.readouterr().out
    assert "read 3, imported 2: new 2" in out and "bad 1" in out
    assert "bad record at line 8: record has neither 'title' nor 'abstract'" in out
    assert main(["import", "--json", str(write(cli_env, "p.nbib", NBIB))]) == 0
    assert json.loads(capsys.readouterr().out)["duplicate_groups"] == 1
    assert main(["duplicates", "list", "--json"]) == 0
    (group,) = json.loads(capsys.readouterr().out)
    duplicate = next(m["record_id"] for m in group["members"] if m["role"] == "duplicate")
    assert main(["duplicates", "split", str(group["id"]), str(duplicate)]) == 0
    assert "split from group" in capsys.readouterr().out
    assert main(["duplicates", "split", str(group["id"]), "999"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"livescreen duplicates split: error: record 999 is not in duplicate group {group['id']}"
    )


def test_cli_bad_files_are_one_line_errors(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = cli_env / "missing.ris"
    assert main(["import", str(missing)]) == 1
    assert capsys.readouterr().err == f"livescreen import: error: {missing}: no such file\n"
    notes = write(cli_env, "notes.txt", "hello\nworld\n")
    assert main(["import", str(notes)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"livescreen import: error: {notes}: format not recognised")
    assert err.count("\n") == 1


TRIAL_RIS = """TY  - JOUR
TI  - Microdosing psilocybin in healthy adults: a randomised, double-blind, placebo-controlled trial
AU  - Lee, Ann
PY  - 2025
AB  - Healthy adults were randomised to psilocybin 1 mg or placebo on six occasions. Mood was
  measured. Psilocybin at this low dose did not differ from placebo.
ER  -
"""


def subscribed_flagship(settings: Settings) -> Runtime:
    """A runtime on the flagship protocol whose review has one e-mail subscription."""
    from services.alerts.subscriptions import subscribe

    runtime = build_runtime(settings)
    with runtime.sessions() as session:
        review = ensure_review(session=session, protocol=runtime.protocol(None))
        assert review.id is not None
        subscribe(
            session=session, settings=settings, review_id=review.id, channel="email",
            target="team@example.org",
        )  # fmt: skip
        session.commit()
    return runtime


def test_an_imported_eligible_trial_raises_the_new_trial_alert_once(
    database_url: str, tmp_path: Path
) -> None:
    from services.db.alerts import Alert, Delivery
    from services.settings import FLAGSHIP_PROTOCOL

    runtime = subscribed_flagship(
        Settings(database_url=database_url, protocols=[FLAGSHIP_PROTOCOL])  # type: ignore[call-arg]
    )
    try:
        path = write(tmp_path, "trial.ris", TRIAL_RIS)
        run_import(runtime, slug=None, path=path, fmt=None)
        run_import(
            runtime, slug=None, path=write(tmp_path, "again.ris", TRIAL_RIS + "\n"), fmt=None
        )
        with runtime.sessions() as session:
            alerts = session.exec(select(Alert)).all()
            assert [a.event for a in alerts] == ["machine_include"]
            assert [d.state for d in session.exec(select(Delivery))] == ["pending"]
    finally:
        runtime.close()


def test_a_large_import_is_screened_in_a_child_process_and_announces_its_trial(
    database_url: str, tmp_path: Path
) -> None:
    """A file of 1,500 records is screened as sweeps are, batch by batch in a child
    process while the next batch is stored: every record gets its verdict and the one
    eligible trial among them raises its alert once, after the verdicts are in."""
    from services.db.alerts import Alert
    from services.settings import FLAGSHIP_PROTOCOL

    filler = "".join(
        f"TY  - JOUR\nTI  - Sleep and mood in adults, cohort {n}\nAU  - Kim, B.\nPY  - 2019\n"
        f"AB  - Adults in cohort {n} kept sleep diaries for a year.\nER  -\n"
        for n in range(1499)
    )
    runtime = subscribed_flagship(
        Settings(database_url=database_url, protocols=[FLAGSHIP_PROTOCOL], screen_process="on")  # type: ignore[call-arg]
    )
    try:
        path = write(tmp_path, "big.ris", filler + TRIAL_RIS)
        report = run_import(runtime, slug=None, path=path, fmt=None).to_json()
        assert (report["new"], report["screened"], report["screening_error"]) == (1500, 1500, None)
        with runtime.sessions() as session:
            assert len(session.exec(select(Screening)).all()) == 1500
            (alert,) = session.exec(select(Alert)).all()
            assert alert.event == "machine_include"
    finally:
        runtime.close()
