"""`livescreen run`: migrate, sweep at start, serve /healthz, stop cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from tests.eutils_server import FakeEutils, synthetic_record


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, token: str | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=5
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_run_sweeps_at_start_serves_health_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    records = [synthetic_record(str(36_000_000 + i), edat=date(2025, 5, 1 + i)) for i in range(5)]
    protocol = tmp_path / "run.toml"
    protocol.write_text('slug = "run-review"\ntitle = "Run"\nquery = "psilocybin[tiab]"\n')
    port = free_port()
    with FakeEutils(records) as fake:
        env = {
            **os.environ,
            "LIVESCREEN_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "LIVESCREEN_EUTILS_URL": fake.base_url,
            "LIVESCREEN_PROTOCOLS": str(protocol),
            "LIVESCREEN_BROKER_URL": "",
        }
        added = subprocess.run(
            [sys.executable, "-m", "services.cli", "users", "add", "ops", "--role", "admin"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        token = added.stdout.strip().splitlines()[-1]  # the health details are for admins
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            body: dict = {}  # type: ignore[type-arg]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status, body = get_json(f"http://127.0.0.1:{port}/healthz", token)
                except OSError:
                    time.sleep(0.2)
                    continue
                sweep = body["reviews"][0]["last_sweep"] if body.get("reviews") else None
                if sweep and sweep["state"] == "succeeded":
                    break
                time.sleep(0.2)
            assert status == 200
            assert body["status"] == "ok"
            assert body["database"]["ok"] is True
            assert body["broker"] == {"ok": True, "configured": False, "error": None}
            (review,) = body["reviews"]
            assert review["slug"] == "run-review" and review["records"] == 5
            assert review["last_sweep"]["counts"]["new"] == 5
            # A container healthcheck (no token) sees the same status, without the details.
            assert get_json(f"http://127.0.0.1:{port}/healthz") == (
                200,
                {"status": "ok", "reason_count": 0},
            )
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err, err.decode()


def test_health_reports_unreachable_broker(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from services.runtime import build_runtime
    from services.settings import Settings
    from services.web.app import create_app
    from tests.web.factories import user

    protocol = tmp_path / "h.toml"
    protocol.write_text('slug = "h"\ntitle = "H"\nquery = "q"\n')
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        protocols=[protocol],
    )
    runtime = build_runtime(settings)
    try:
        with runtime.sessions() as session:
            token = user(session, "ops", "admin")
            session.commit()
        with TestClient(create_app(runtime)) as client:
            anonymous = client.get("/healthz")
            response = client.get("/healthz", headers={"Authorization": f"Bearer {token}"})
        assert anonymous.status_code == 503  # the status code is the same for everyone
        assert anonymous.json() == {
            "status": "degraded",
            "reason_count": 1,
            "detail": "the reasons are shown to admins (a signed-in session or an admin's "
            "bearer token)",
        }
        assert response.status_code == 503
        body = response.json()
        assert body["database"]["ok"] is True
        assert body["broker"]["ok"] is False and "Connection" in body["broker"]["error"]
        (review,) = body["reviews"]
        assert {k: review[k] for k in ("slug", "title", "records", "last_sweep", "steps")} == {
            "slug": "h",
            "title": "H",
            "records": 0,
            "last_sweep": None,
            "steps": {},
        }
        assert review["next_sweep_due"]  # never swept: due now
    finally:
        runtime.close()
