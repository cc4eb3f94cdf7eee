"""/healthz: the status for everyone, the reasons for admins; and a sweep's whole error kept.

A sweep that cannot reach PubMed, with a query written over several lines (as protocol
files do), must name the cause ("Connection refused") in the CLI's error line, on the
stored sweep row and in the admins' /healthz, and anonymous callers must learn no more
than the status and how many reasons there are.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.cli import main
from services.db.models import Sweep
from services.runtime import Runtime, build_runtime
from services.settings import Settings, get_settings
from services.web.app import create_app
from tests.web.factories import user
from tests.web.test_auth import sign_in

QUERY = "(microdos*[tiab])\n  AND psilocybin[tiab]\n"
CAUSE = "Connection refused"
SECRET_TITLE = "A confidential review title"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def failed_sweep(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[Runtime, str]]:
    """A review whose sweep failed to connect, swept through the CLI; (runtime, CLI stderr)."""
    protocol = tmp_path / "r.toml"
    protocol.write_text(f'slug = "r"\ntitle = "{SECRET_TITLE}"\nquery = """{QUERY}"""\n')
    env = {
        "LIVESCREEN_DATABASE_URL": database_url,
        "LIVESCREEN_PROTOCOLS": str(protocol),
        "LIVESCREEN_EUTILS_URL": f"http://127.0.0.1:{closed_port()}/",
        "LIVESCREEN_HTTP_RETRIES": "0",
        "LIVESCREEN_BROKER_URL": "",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert main(["sweep", "--no-progress"]) == 1
        err = capsys.readouterr().err
        runtime = build_runtime(Settings())
    finally:
        get_settings.cache_clear()
    try:
        yield runtime, err
    finally:
        runtime.close()


def test_a_failed_sweep_keeps_the_cause_on_one_line(failed_sweep: tuple[Runtime, str]) -> None:
    runtime, err = failed_sweep
    (line,) = err.strip().splitlines()  # one line, and it names the cause
    assert line.startswith("livescreen sweep: error: r: sweep 1 failed: EutilsError: esearch")
    assert CAUSE in line
    assert "term=(microdos*[tiab]) AND psilocybin[tiab]" in line  # the query, on one line
    with runtime.sessions() as session:
        (sweep,) = session.exec(select(Sweep)).all()
    assert sweep.state == "failed" and sweep.error is not None
    assert CAUSE in sweep.error and "\n" not in sweep.error


def test_anonymous_callers_get_the_status_and_admins_the_reasons(
    failed_sweep: tuple[Runtime, str],
) -> None:
    runtime, _err = failed_sweep
    with runtime.sessions() as session:
        admin = user(session, "ops", "admin")
        reviewer = user(session, "rev", "reviewer")
        session.commit()
    with TestClient(create_app(runtime)) as client:
        anonymous = client.get("/healthz")
        as_reviewer = client.get("/healthz", headers={"Authorization": f"Bearer {reviewer}"})
        bad_token = client.get("/healthz", headers={"Authorization": "Bearer not-a-token"})
        as_admin = client.get("/healthz", headers={"Authorization": f"Bearer {admin}"})
    with TestClient(create_app(runtime), follow_redirects=False) as browser:
        signed_in = sign_in(browser, admin).get("/healthz")

    # Everyone gets the same HTTP status: the service is up (200), its data is not whole.
    for response in (anonymous, as_reviewer, bad_token, as_admin, signed_in):
        assert response.status_code == 200
    hidden = {
        "status": "degraded",
        "reason_count": 1,
        "detail": "the reasons are shown to admins (a signed-in session or an admin's "
        "bearer token)",
    }
    for response in (anonymous, as_reviewer, bad_token):
        assert response.json() == hidden
        assert SECRET_TITLE not in response.text and CAUSE not in response.text

    for response in (as_admin, signed_in):
        body = response.json()
        assert (body["status"], body["reason_count"]) == ("degraded", 1)
        (reason,) = body["reasons"]
        assert reason.startswith("r: last sweep 1 failed; error: EutilsError: esearch")
        assert CAUSE in reason  # the cause reaches /healthz too
        (review,) = body["reviews"]
        assert review["title"] == SECRET_TITLE
        assert CAUSE in review["last_sweep"]["error"]


def test_a_healthy_service_says_ok_to_anyone(tmp_path: Path) -> None:
    protocol = tmp_path / "h.toml"
    protocol.write_text('slug = "h"\ntitle = "H"\nquery = "q"\n')
    runtime = build_runtime(
        Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", protocols=[protocol])
    )
    try:
        with TestClient(create_app(runtime)) as client:
            response = client.get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok", "reason_count": 0})
    finally:
        runtime.close()
