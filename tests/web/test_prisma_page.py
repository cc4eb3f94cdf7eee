"""The dashboard's PRISMA 2020 link answers a signed-in browser (the session cookie, no
bearer token), the page shows the diagram inline with the database's numbers, and a
stranger gets the sign-in form. On SQLite and PostgreSQL, through a live server."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from services.db.models import Review
from services.reports.prisma import prisma_numbers
from services.runtime import Runtime
from services.web.accounts import create_user
from services.web.app import create_app
from tests.reports.helpers import box_text, parse
from tests.reports.scenario import EXPECTED, SLUG, build, runtime
from tests.web.conftest import LiveServer
from tests.web.test_auth import sign_in

__all__ = ["runtime"]


@pytest.fixture
def site(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The scenario's review behind a live server, and a reviewer's token."""
    build(runtime, tmp_path)
    with runtime.sessions() as session:
        _, token = create_user(session=session, name="pat", role="reviewer")
        session.commit()
    with LiveServer(create_app(runtime)) as base:
        yield base, token


def test_the_dashboard_links_the_svg_and_it_answers_the_signed_in_browser(
    runtime: Runtime, site: tuple[str, str]
) -> None:
    base, token = site
    with httpx.Client(base_url=base) as http:
        browser = sign_in(http, token)
        dashboard = browser.get(f"/reviews/{SLUG}")
        assert f'id="prisma-link" href="/reviews/{SLUG}/prisma"' in dashboard.text
        assert f'id="prisma-svg-link" href="/reviews/{SLUG}/prisma.svg"' in dashboard.text
        answer = browser.get(f"/reviews/{SLUG}/prisma.svg")
        assert answer.status_code == 200 and "authorization" not in answer.request.headers
        assert answer.headers["content-type"] == "image/svg+xml"
        root = parse(answer.content)  # well-formed
        assert box_text(root, "identified").startswith(
            f"Records identified from (n = {EXPECTED['identified']})"
        )
        with runtime.sessions() as session:
            review = session.exec(select(Review).where(Review.slug == SLUG)).one()
            numbers = prisma_numbers(session=session, review=review, required=1)
        assert box_text(root, "screened") == (
            f"Records screened (n = {numbers.flow.screened}) "
            f"Awaiting screening (n = {numbers.flow.awaiting})"
        )
        assert box_text(root, "included") == (
            f"Studies included in review (n = {numbers.flow.included})"
        )
        png = browser.get(f"/reviews/{SLUG}/prisma.png")
        if importlib.util.find_spec("cairosvg") is None:
            assert png.status_code == 501 and "plots" in png.text
        else:
            assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_the_page_shows_the_diagram_inline_with_its_numbers(site: tuple[str, str]) -> None:
    base, token = site
    with httpx.Client(base_url=base) as http:
        page = sign_in(http, token).get(f"/reviews/{SLUG}/prisma")
        assert page.status_code == 200
        assert f'<img id="prisma-diagram" src="/reviews/{SLUG}/prisma.svg"' in page.text
        assert f"(total {EXPECTED['identified']})" in page.text
        assert f"Duplicates removed: {EXPECTED['duplicates_removed']}" in page.text
        assert "low_dose 2" in page.text and f"Included: {EXPECTED['included']}" in page.text


def test_a_stranger_gets_the_sign_in_form_not_the_diagram(site: tuple[str, str]) -> None:
    base, _ = site
    with httpx.Client(base_url=base) as http:
        for path in (f"/reviews/{SLUG}/prisma.svg", f"/reviews/{SLUG}/prisma"):
            answer = http.get(path)
            assert answer.headers["content-type"].startswith("text/html"), path
            assert 'name="token"' in answer.text and "Records identified" not in answer.text
        assert http.get(f"/api/v1/reviews/{SLUG}/prisma.svg").status_code == 401
