"""The diagram served by the API renders in real Chromium: it has a size and a screenshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime import Runtime
from services.web.accounts import create_user
from services.web.app import create_app
from tests.reports.scenario import SLUG, build, runtime
from tests.web.conftest import LiveServer
from tests.web.test_browser import ARGS

__all__ = ["runtime"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_the_svg_renders_in_chromium(runtime: Runtime, tmp_path: Path, chromium_path: str) -> None:
    from playwright.sync_api import sync_playwright

    build(runtime, tmp_path)
    with runtime.sessions() as session:
        _, token = create_user(session=session, name="carol", role="reviewer")
        session.commit()
    shot = tmp_path / "prisma.png"
    with LiveServer(create_app(runtime)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=ARGS, headless=True)
        try:
            context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
            page = context.new_page()
            answer = page.goto(f"{base}/api/v1/reviews/{SLUG}/prisma.svg")
            assert answer is not None and answer.status == 200
            svg = page.locator("svg").first.bounding_box()
            assert svg is not None and svg["width"] > 500 and svg["height"] > 300
            included = page.locator("#included").bounding_box()
            assert included is not None and included["width"] > 0 and included["height"] > 0
            # the text is laid out inside its box, not lost off the drawing
            text = page.locator("#identified text").bounding_box()
            box = page.locator("#identified rect").bounding_box()
            assert text is not None and box is not None
            assert box["x"] <= text["x"] and text["x"] + text["width"] <= box["x"] + box["width"]
            page.screenshot(path=str(shot), timeout=90_000)
        finally:
            browser.close()
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 5000
