"""Real Chromium: overlapping evidence all visible, reasons shown, the hide toggle, keys
from the note box, and the decision bar in view at 1280x720."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web import factories as f
from tests.web.conftest import Env, LiveServer
from tests.web.test_browser import browser, press  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
SENTENCE = "A randomised placebo-controlled trial of 1 mg psilocybin in adults."
ABSTRACT = SENTENCE + " " + "Long text follows. " * 200


def ev(quote: str) -> dict:
    start = ABSTRACT.index(quote)
    return {"field": "abstract", "start": start, "end": start + len(quote), "text": quote}


CRITERIA = {
    "psilocybin": {"verdict": "met", "confidence": 0.9, "evidence": [ev("psilocybin")]},
    "low_dose": {
        "verdict": "met",
        "confidence": 0.8,
        "reason": "1 mg arm is a microdose",
        "evidence": [ev("1 mg psilocybin"), ev("1 mg psilocybin")],
    },
    "controlled": {"verdict": "met", "confidence": 0.7, "evidence": [ev(SENTENCE)]},
}


def test_screening_page_in_chromium(env: Env, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    proto = f.protocol(screening="single", blind=False)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        for i in range(3):
            f.record(
                s,
                rev,
                str(200 + i),
                title=f"Trial {i}",
                abstract=ABSTRACT,
                p_include=0.9 - i / 10,
                criteria=CRITERIA,
            )
        alice = f.user(s, "alice")
        s.commit()

    with LiveServer(env.app()) as base:
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 720})
        page.goto("/login")
        page.fill("#token", alice)
        page.click("button[type=submit]")
        page.goto("/reviews/micro/screen")
        expect(page.locator("#record-title")).to_have_text("Trial 0")

        # every criterion covering "psilocybin" draws its own visible underline
        inner = page.locator("#record-abstract mark.ev", has_text="psilocybin").filter(
            has_not_text="1 mg"
        )
        colours = set(
            inner.evaluate_all("ms => ms.map(m => getComputedStyle(m).borderBottomColor)")
        )
        crits = set(inner.evaluate_all("ms => ms.map(m => m.dataset.criterion)"))
        assert crits == {"psilocybin", "low_dose", "controlled"}
        assert len(colours) == 3 and "rgba(0, 0, 0, 0)" not in colours
        expect(page.locator("#legend")).to_contain_text("low_dose")

        # reason shown, the duplicate quote once
        low = page.locator('li.verdict[data-criterion="low_dose"]')
        expect(low).to_contain_text("1 mg arm is a microdose")
        expect(low).to_contain_text("meets this criterion")
        expect(low.locator("q.evq")).to_have_count(1)

        # buttons and position in view without scrolling
        for sel in ("#btn-include", "#btn-exclude", "#position"):
            expect(page.locator(sel)).to_be_in_viewport()
        expect(page.locator("#position")).to_contain_text("3 of 3 left")

        # the toggle hides the suggestion and its highlights, and is remembered
        press(page, "h")
        expect(page.locator("#machine-decision")).to_be_hidden()
        bg = page.locator("#record-abstract mark.ev.l0").first.evaluate(
            "m => getComputedStyle(m).backgroundColor"
        )
        assert bg == "rgba(0, 0, 0, 0)"
        page.reload()
        expect(page.locator("#machine-decision")).to_be_hidden()
        page.click("#toggle-machine")
        expect(page.locator("#machine-decision")).to_be_visible()

        # keys from the note box: Escape hands back the shortcuts, Ctrl+Enter decides
        page.click("#note")
        page.keyboard.type("ie")  # typed into the note, not shortcuts
        expect(page.locator("#note")).to_have_value("ie")
        page.keyboard.press("Escape")
        press(page, "i")
        expect(page.locator(".flash")).to_contain_text("Included PMID 200")
        page.click("#note")
        page.keyboard.type("dose unclear")
        page.keyboard.press("Control+Enter")
        expect(page.locator(".flash")).to_contain_text("Included PMID 201")
        page.close()


def test_api_docs_render_with_no_network(env: Env, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with LiveServer(env.app()) as base:
        page = browser.new_page()
        outside: list[str] = []

        def only_local(route: Any) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(base + "/api/v1/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("livescreen")
        expect(page.locator(".opblock").first).to_be_visible()
        assert outside == []
        page.close()
