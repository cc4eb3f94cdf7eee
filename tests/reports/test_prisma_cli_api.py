"""``livescreen prisma`` writes the file; ``GET /api/v1/reviews/{slug}/prisma.svg`` serves it
to signed-in users only."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.cli import main
from services.runtime import Runtime
from services.settings import get_settings
from services.web.accounts import create_user
from services.web.app import create_app
from tests.reports.helpers import box_text, parse
from tests.reports.scenario import SLUG, build, runtime
from tests.web.conftest import LiveServer

__all__ = ["runtime"]


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, runtime: Runtime, database_url: str, tmp_path: Path
) -> Iterator[Path]:
    """The CLI's environment pointing at the runtime's database and protocol."""
    monkeypatch.setenv("LIVESCREEN_DATABASE_URL", database_url)
    monkeypatch.setenv("LIVESCREEN_PROTOCOLS", str(tmp_path / f"{SLUG}.toml"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_writes_the_svg_and_the_png(
    cli: Path, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    build(runtime, cli)
    out = cli / "flow.svg"
    assert main(["prisma", "--review", SLUG, "--output", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (")
    assert box_text(parse(out.read_bytes()), "included") == "Studies included in review (n = 1)"
    pytest.importorskip("cairosvg", reason="PNG needs the plots extra")
    png = cli / "flow.png"
    assert main(["prisma", "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_errors_are_one_line(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prisma", "--output", str(cli / "flow.pdf")]) == 1
    err = capsys.readouterr().err
    pdf = cli / "flow.pdf"
    assert err == f"livescreen prisma: error: --output {pdf}: the file must end in .svg or .png\n"
    assert main(["prisma", "--output", str(cli / "no" / "flow.svg")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["prisma", "--output", str(cli / "flow.svg")]) == 1  # nothing stored yet
    assert capsys.readouterr().err == (
        "livescreen prisma: error: review 'prisma' has no records yet "
        "(run livescreen sweep or import)\n"
    )
    assert main(["prisma", "--review", "nope", "--output", str(cli / "flow.svg")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("livescreen prisma: error: ") and "nope" in err and err.count("\n") == 1


def test_api_route_needs_a_token_and_answers_svg(runtime: Runtime, tmp_path: Path) -> None:
    build(runtime, tmp_path)
    with runtime.sessions() as session:
        _, token = create_user(session=session, name="bob", role="reviewer")
        session.commit()
    with LiveServer(create_app(runtime)) as base, httpx.Client(base_url=base) as http:
        url = f"/api/v1/reviews/{SLUG}/prisma.svg"
        anonymous = http.get(url)
        assert anonymous.status_code == 401 and "detail" in anonymous.json()
        wrong = http.get(url, headers={"Authorization": "Bearer not-a-token"})
        assert wrong.status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        answer = http.get(url, headers=auth)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/svg+xml"
        root = parse(answer.content)
        assert box_text(root, "identified").startswith("Records identified from (n = 9)")
        missing = http.get("/api/v1/reviews/nope/prisma.svg", headers=auth)
        assert missing.status_code == 404 and "nope" in missing.json()["detail"]
        spec = http.get("/api/v1/openapi.json", headers=auth).json()
        documented = spec["paths"]["/api/v1/reviews/{slug}/prisma.svg"]["get"]["responses"]
        assert {"200", "401", "404"} <= set(documented)
        assert "image/svg+xml" in documented["200"]["content"]
        png = http.get(f"/api/v1/reviews/{SLUG}/prisma.png", headers=auth)
        if importlib.util.find_spec("cairosvg") is None:
            assert png.status_code == 501 and "plots" in png.json()["detail"]
        else:
            assert png.status_code == 200 and png.headers["content-type"] == "image/png"
            assert png.content.startswith(b"\x89PNG")
        assert http.get(f"/api/v1/reviews/{SLUG}/prisma.png").status_code == 401
