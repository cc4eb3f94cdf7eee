"""The import API: admins upload a file and get the report; others are refused; a bad file
is a 422 naming the problem. Runs against a live server on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlmodel import select

from services.db.imports import ImportRun
from services.protocols import Protocol
from tests.imports.test_import_store import RIS
from tests.web import factories as f
from tests.web.conftest import Env, client_for, env  # noqa: F401  (fixtures)

Client = Callable[..., httpx.Client]


def test_admin_uploads_a_file_and_gets_the_report(env: Env, client_for: Client) -> None:  # noqa: F811
    env.add_protocol(Protocol(slug="micro", title="Micro", query="psilocybin"))
    with env.session() as session:
        admin = f.user(session, "ada", role="admin")
        reviewer = f.user(session, "rev")
        session.commit()
    files = {"file": ("zotero export.ris", RIS.encode(), "application/x-research-info-systems")}
    answer = client_for(admin).post("/api/v1/reviews/micro/imports", files=files)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["file"], report["format"], report["new"], report["bad"]) == (
        "zotero export.ris", "ris", 2, 1,
    )  # fmt: skip
    assert report["problems"][0]["where"] == "line 8"
    again = client_for(admin).post("/api/v1/reviews/micro/imports", files=files).json()
    assert again["already_imported"] is True
    with env.session() as session:
        assert len(session.exec(select(ImportRun)).all()) == 1

    refused = client_for(reviewer).post("/api/v1/reviews/micro/imports", files=files)
    assert refused.status_code == 403
    bad = client_for(admin).post(
        "/api/v1/reviews/micro/imports", files={"file": ("notes.txt", b"hello\n", "text/plain")}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("notes.txt: format not recognised")
    unknown = client_for(admin).post("/api/v1/reviews/nope/imports", files=files)
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
