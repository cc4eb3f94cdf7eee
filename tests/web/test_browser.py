"""Real Chromium through Playwright: sign in, screen with the keyboard, see evidence, resolve."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.db.reviewing import Decision
from tests.web import factories as f
from tests.web.conftest import Env, LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ABSTRACT = "A randomised placebo-controlled trial of low dose psilocybin in adults."


def evidence(text: str, quote: str) -> dict:
    start = text.index(quote)
    return {"field": "abstract", "start": start, "end": start + len(quote), "text": quote}


@pytest.fixture
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path, args=ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def press(page: Any, key: str) -> None:
    """A keyboard shortcut, once the page's shortcut script is listening (it is deferred)."""
    from playwright.sync_api import expect

    expect(page.locator("html[data-shortcuts=on]")).to_have_count(1)
    page.keyboard.press(key)


def test_screen_with_keyboard_and_resolve_a_conflict(env: Env, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    proto = f.protocol(screening="dual")
    env.add_protocol(proto)
    criteria = {
        "psilocybin": {
            "verdict": "yes",
            "confidence": 0.9,
            "evidence": [evidence(ABSTRACT, "psilocybin")],
        },
        "low_dose": {
            "verdict": "yes",
            "confidence": 0.8,
            "evidence": [evidence(ABSTRACT, "low dose")],
        },
        "controlled": {
            "verdict": "yes",
            "confidence": 0.7,
            "evidence": [evidence(ABSTRACT, "placebo-controlled")],
        },
    }
    with env.session() as s:
        rev = f.review(s, proto)
        for i, p in enumerate((0.9, 0.8, 0.7, 0.6)):
            f.record(
                s,
                rev,
                str(100 + i),
                title=f"Trial {i}",
                abstract=ABSTRACT,
                p_include=p,
                criteria=criteria,
            )
        alice = f.user(s, "alice")
        bob = f.user(s, "bob")
        carol = f.user(s, "carol", "resolver")
        s.commit()

    with LiveServer(env.app()) as base:
        page = browser.new_page(base_url=base)
        page.goto("/reviews/micro/screen")
        expect(page.locator("#token")).to_be_visible()  # not signed in: the sign-in form
        page.fill("#token", alice)
        page.click("button[type=submit]")
        expect(page.locator("#record-title")).to_have_text("Trial 0")

        # evidence: one highlight per criterion, each in its own colour
        marks = page.locator("#record-abstract mark.ev")
        expect(marks).to_have_count(3)
        colours = {
            marks.nth(i).evaluate("m => getComputedStyle(m).backgroundColor") for i in range(3)
        }
        assert len(colours) == 3 and "rgba(0, 0, 0, 0)" not in colours
        assert sorted(marks.all_text_contents()) == ["low dose", "placebo-controlled", "psilocybin"]

        press(page, "i")  # include Trial 0
        expect(page.locator(".flash")).to_contain_text("Included PMID 100")
        expect(page.locator("#record-title")).to_have_text("Trial 1")
        press(page, "2")  # tick the second reason, low_dose
        expect(page.locator('input[name="reasons"][value="low_dose"]')).to_be_checked()
        press(page, "e")
        expect(page.locator(".flash")).to_contain_text("Excluded PMID 101")
        press(page, "s")  # skip Trial 2
        expect(page.locator(".flash")).to_contain_text("Skipped PMID 102")
        expect(page.locator("#record-title")).to_have_text("Trial 3")
        press(page, "i")
        expect(page.locator(".flash")).to_contain_text("Included PMID 103")
        press(page, "u")  # undo: Trial 3 comes back
        expect(page.locator(".flash")).to_contain_text("withdrawn")
        expect(page.locator("#record-title")).to_have_text("Trial 3")
        press(page, "e")
        expect(page.locator(".flash")).to_contain_text("Excluded PMID 103")
        expect(page.locator("#record-title")).to_have_text("Trial 2")  # the skipped one, last

        with env.session() as s:
            current = s.execute(
                sa.select(Decision.record_id, Decision.decision, Decision.reasons).where(
                    Decision.is_current
                )
            ).all()
        assert sorted((d, r) for _, d, r in current) == [
            ("exclude", []),
            ("exclude", ["low_dose"]),
            ("include", []),
        ]

        # bob disagrees on Trial 0 through the API: a conflict for carol
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {bob}"}) as api:
            rid = api.post("/api/v1/reviews/micro/next").json()["id"]
            api.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": "exclude"})

        resolver = browser.new_context(base_url=base).new_page()
        resolver.goto("/login")
        resolver.fill("#token", carol)
        resolver.click("button[type=submit]")
        resolver.goto("/reviews/micro/conflicts")
        conflict = resolver.locator("section.conflict")
        expect(conflict).to_have_count(1)
        expect(conflict).to_contain_text("Trial 0")
        expect(conflict).to_contain_text("alice")
        conflict.locator("input[name=note]").fill("the dose is low")
        conflict.locator("button[value=include]").click()
        expect(resolver.locator("#no-conflicts")).to_be_visible()
        resolver.goto("/reviews/micro")
        expect(resolver.locator("#count-included")).to_have_text("1")
        resolver.context.close()
        page.close()
