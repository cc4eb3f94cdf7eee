"""One look in real Chromium at a primary's duplicates: the listing is visible under the
record, its link leads to the copy's page, which names the primary, and a resolver's
split button takes the copy out of the group."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import Env, LiveServer
from tests.web.test_browser import browser  # noqa: F401  (the fixture)
from tests.web.test_duplicates import grouped

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_a_resolver_sees_the_copies_follows_one_and_splits_it(
    env: Env,
    browser: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    w = grouped(env, tmp_path)
    with LiveServer(env.app()) as base:
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 900})
        page.goto(f"/reviews/micro/records/{w['primary']}")
        page.fill("#token", str(w["resolver"]))
        page.click("button[type=submit]")
        listing = page.locator("#duplicates")
        expect(listing).to_be_visible()
        expect(listing.locator("h3")).to_have_text("Duplicates of this record (1)")
        member = listing.locator(".dup-member")
        expect(member).to_have_count(1)
        expect(member).to_contain_text("zotero.ris (ris)")
        expect(member).to_contain_text("doi:10.1000/PSI.1", ignore_case=True)
        box = listing.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40
        page.screenshot(path=str(tmp_path / "duplicates.png"), full_page=True)
        assert (tmp_path / "duplicates.png").stat().st_size > 1000

        member.locator("a").click()
        expect(page).to_have_url(f"{base}/reviews/micro/records/{w['duplicate']}")
        expect(page.locator("#duplicate-primary")).to_have_attribute(
            "href", f"/reviews/micro/records/{w['primary']}"
        )
        page.locator("#duplicates .split-form button").click()
        expect(page.locator(".flash")).to_contain_text(f"Split record {w['duplicate']}")
        expect(page.locator("#duplicates")).to_have_count(0)
        page.close()
