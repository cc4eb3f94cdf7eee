"""The admin's upload page: a file from the browser goes through the same ``run_import`` as
the API and the page shows its report (counts, each bad record with its place and
problem). Real files: the EndNote and Zotero RIS exports of asreview's tests, and a RIS
file with a bad record. Through a live server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import rispy
from sqlmodel import col, select

from services.db.imports import ImportRecord, ImportRun
from services.db.models import Record, ReviewRecord
from services.protocols import CriterionSpec, Protocol
from tests.imports.test_import_store import RIS
from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import csrf_of, sign_in

Client = Callable[..., httpx.Client]


def setup(env: Env) -> dict[str, str]:
    proto = Protocol(
        slug="micro",
        title="Micro",
        query="psilocybin",
        criteria=[CriterionSpec(name="psilocybin", kind="substance", terms=["psilocybin"])],
    )
    env.add_protocol(proto)
    with env.session() as s:
        f.review(s, proto)
        out = {"admin": f.user(s, "ada", "admin"), "reviewer": f.user(s, "rita")}
        s.commit()
    return out


def count(html: str, name: str) -> int:
    found = re.search(rf'id="count-{name}">(\d+)<', html)
    assert found, f"no count {name}"
    return int(found.group(1))


def upload(browser: httpx.Client, name: str, content: bytes, fmt: str = "auto") -> httpx.Response:
    form = browser.get("/reviews/micro/imports")
    assert form.status_code == 200
    return browser.post(
        "/reviews/micro/imports",
        data={"csrf_token": csrf_of(form.text), "format": fmt},
        files={"file": (name, content, "application/octet-stream")},
    )


def test_the_dashboard_links_the_upload_form_for_admins_only(env: Env, client_for: Client) -> None:
    w = setup(env)
    admin = sign_in(client_for(), w["admin"])
    assert 'id="imports-link" href="/reviews/micro/imports"' in admin.get("/reviews/micro").text
    page = admin.get("/reviews/micro/imports")
    assert 'enctype="multipart/form-data"' in page.text and "No imports yet." in page.text
    reviewer = sign_in(client_for(), w["reviewer"])
    assert 'id="imports-link"' not in reviewer.get("/reviews/micro").text
    assert reviewer.get("/reviews/micro/imports").status_code == 403


def test_real_exports_import_and_the_report_is_shown(
    env: Env, client_for: Client, shared_data: Path
) -> None:
    w = setup(env)
    admin = sign_in(client_for(), w["admin"])
    zotero = (shared_data / "asreview-tests" / "pubmed_zotero.ris").read_bytes()
    expected = len(rispy.loads(zotero.decode("utf-8-sig")))
    answer = upload(admin, "pubmed_zotero.ris", zotero)
    assert answer.status_code == 200, answer.text
    assert 'id="import-report"' in answer.text and "pubmed_zotero.ris (ris)" in answer.text
    assert count(answer.text, "read") == expected == count(answer.text, "new")
    assert count(answer.text, "bad") == 0 and 'id="import-problems"' not in answer.text
    assert count(answer.text, "screened") == expected  # screened like swept records
    with env.session() as s:
        (run,) = s.exec(select(ImportRun)).all()
        assert (run.file_name, run.new) == ("pubmed_zotero.ris", expected)
        review_records = s.exec(select(ReviewRecord.record_id)).all()
        assert len(review_records) == expected

    # EndNote's export (other records, PMIDs in AN), with the format given
    endnote = (shared_data / "asreview-tests" / "pubmed_endnote.ris").read_bytes()
    more = len(rispy.loads(endnote.decode("utf-8-sig")))
    second = upload(admin, "pubmed_endnote.ris", endnote, fmt="ris")
    assert second.status_code == 200, second.text
    assert count(second.text, "read") == more == count(second.text, "imported")
    assert count(second.text, "bad") == 0
    with env.session() as s:
        assert len(s.exec(select(Record.id)).all()) == expected + count(second.text, "new")

    # the same file again adds nothing, and says so
    again = upload(admin, "pubmed_zotero.ris", zotero)
    assert 'id="already-imported"' in again.text and count(again.text, "new") == expected
    with env.session() as s:
        assert len(s.exec(select(ImportRun)).all()) == 2

    listing = admin.get("/reviews/micro/imports").text
    assert "pubmed_zotero.ris" in listing and "pubmed_endnote.ris" in listing
    assert f'href="/reviews/micro/imports/{run.id}"' in listing


def test_a_bad_record_is_listed_with_its_place_and_the_good_ones_imported(
    env: Env, client_for: Client
) -> None:
    w = setup(env)
    admin = sign_in(client_for(), w["admin"])
    answer = upload(admin, "with a bad one.txt", RIS.encode(), fmt="ris")
    assert answer.status_code == 200, answer.text
    assert (count(answer.text, "read"), count(answer.text, "new")) == (3, 2)
    assert count(answer.text, "bad") == 1
    problems = re.findall(r'<tr class="problem"><td>(.*?)</td><td>(.*?)</td>', answer.text)
    assert problems == [("line 8", "record has neither &#39;title&#39; nor &#39;abstract&#39;")]
    with env.session() as s:
        run = s.exec(select(ImportRun)).one()
        assert (
            len(s.exec(select(ImportRecord).where(col(ImportRecord.import_id) == run.id)).all())
            == 2
        )
    # the report again, later, from the run's row
    later = admin.get(f"/reviews/micro/imports/{run.id}")
    assert later.status_code == 200 and count(later.text, "bad") == 1
    assert "line 8" in later.text
    assert admin.get("/reviews/micro/imports/999").status_code == 404


def test_an_unreadable_file_is_an_error_naming_the_file(env: Env, client_for: Client) -> None:
    w = setup(env)
    admin = sign_in(client_for(), w["admin"])
    answer = upload(admin, "notes.txt", b"hello\n")
    assert answer.status_code == 422
    error = re.search(r'id="import-error"[^>]*>(.*?)</p>', answer.text, re.S)
    assert error and "notes.txt: format not recognised" in error.group(1)
    assert "/tmp" not in error.group(1)  # the spool file's path is not shown
    with env.session() as s:
        assert s.exec(select(ImportRun)).all() == []


def test_the_upload_needs_an_admin_and_the_form_token(env: Env, client_for: Client) -> None:
    w = setup(env)
    files = {"file": ("a.ris", RIS.encode(), "application/octet-stream")}
    admin = sign_in(client_for(), w["admin"])
    assert admin.post("/reviews/micro/imports", files=files).status_code == 403  # no CSRF
    reviewer = sign_in(client_for(), w["reviewer"])
    token = csrf_of(reviewer.get("/reviews/micro").text)
    refused = reviewer.post("/reviews/micro/imports", data={"csrf_token": token}, files=files)
    assert refused.status_code == 403
    anonymous = client_for().post("/reviews/micro/imports", files=files, follow_redirects=False)
    assert anonymous.status_code in (303, 401, 403)
    with env.session() as s:
        assert s.exec(select(ImportRun)).all() == []
