"""The dashboard's PRISMA link in real Chromium: the signed-in session follows it to the
page, and the inline diagram loads (the page's content policy allows it) with a size."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime import Runtime
from services.web.accounts import create_user
from services.web.app import create_app
from tests.reports.scenario import SLUG, build, runtime
from tests.web.conftest import LiveServer
from tests.web.test_browser import browser  # noqa: F401  (the fixture)

__all__ = ["runtime"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_the_dashboard_link_shows_the_diagram(
    runtime: Runtime,
    tmp_path: Path,
    browser: object,  # noqa: F811
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    build(runtime, tmp_path)
    with runtime.sessions() as session:
        _, token = create_user(session=session, name="pat", role="reviewer")
        session.commit()
    with LiveServer(create_app(runtime)) as base:
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 900})
        page.goto(f"/reviews/{SLUG}")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.click("#prisma-link")
        expect(page).to_have_url(f"{base}/reviews/{SLUG}/prisma")
        diagram = page.locator("#prisma-diagram")
        expect(diagram).to_be_visible()
        page.wait_for_function(
            "() => { const i = document.getElementById('prisma-diagram');"
            " return i.complete && i.naturalWidth > 0; }"
        )
        box = diagram.bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 300
        shot = tmp_path / "prisma-page.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5000
        page.close()
