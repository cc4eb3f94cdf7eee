"""Real Chromium: the maybe button and key, deciding a maybe later from the records page,
the revised-record flag with its word diff, and the dashboard's export downloaded with the
session cookie (its content parsed back)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from services.records import Record as ParsedRecord
from tests.web import factories as f
from tests.web.conftest import Env, LiveServer
from tests.web.test_browser import browser, press  # noqa: F401  (the fixture)
from tests.web.test_revised import AFTER, BEFORE, store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def shown_pmid(page: Any) -> str:
    """The PMID of the record on the screening page (from its PubMed link)."""
    text = page.locator("article.record a[href*='pubmed']").inner_text()
    return re.sub(r"\D", "", text)


def test_maybe_revised_flag_and_export_in_chromium(env: Env, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    env.add_protocol(f.protocol(blind=False))
    store(
        env,
        *(
            ParsedRecord(pmid=str(pmid), title=f"Trial {pmid}", abstract=BEFORE)
            for pmid in (601, 602, 603)
        ),
    )
    with env.session() as s:
        alice = f.user(s, "alice")
        s.commit()

    with LiveServer(env.app()) as base:
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 720})
        page.goto("/login")
        page.fill("#token", alice)
        page.click("button[type=submit]")
        page.goto("/reviews/micro/screen")

        # the maybe button is in the decision bar, in view, and the help names its key
        maybe = page.locator("#btn-maybe")
        expect(maybe).to_be_in_viewport()
        expect(page.locator("p.hint")).to_contain_text("m maybe")
        kept = shown_pmid(page)
        press(page, "m")
        expect(page.locator(".flash")).to_contain_text(f"Kept as maybe PMID {kept}")
        decided = []
        for _ in range(2):
            expect(page.locator("#btn-include")).to_be_visible()
            pmid = shown_pmid(page)
            assert pmid != kept  # the maybe left the queue
            decided.append(pmid)
            press(page, "i")
            expect(page.locator(".flash")).to_contain_text(f"Included PMID {pmid}")
        expect(page.locator("#btn-include")).to_have_count(0)  # nothing left to screen

        # the second look: the records page's maybe filter, then the record page
        page.goto("/reviews/micro")
        expect(page.locator("#count-maybe")).to_have_text("1")
        page.goto("/reviews/micro/records")
        page.select_option("select[name=status]", "maybe")
        page.click("form.search button[type=submit]")
        rows = page.locator("table.records tr:has(td)")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td.status")).to_have_text("maybe")
        rows.first.locator("a").click()
        expect(page.locator("#record-status")).to_have_text("maybe")
        page.locator("#maybe-form input[value=low_dose]").check()
        page.locator("#maybe-form #btn-exclude").click()
        expect(page.locator("#record-status")).to_have_text("excluded")
        expect(page.locator("#maybe-form")).to_have_count(0)

        # PubMed revises an included record: flagged in the list, diffed on its page
        revised = decided[0]
        store(env, ParsedRecord(pmid=revised, title=f"Trial {revised}", abstract=AFTER))
        page.goto("/reviews/micro/records")
        flagged = page.locator("table.records tr:has(span.flag.revised)")
        expect(flagged).to_have_count(1)
        expect(flagged.locator("td").first).to_have_text(revised)
        flagged.locator("a").click()
        expect(page.locator("#revised-flag")).to_have_text("Changed since you decided")
        deleted = page.locator("#revised-abstract del")
        inserted = page.locator("#revised-abstract ins")
        expect(deleted.first).to_have_text("1 ")
        expect(inserted.first).to_have_text("10 ")
        style = "e => getComputedStyle(e).textDecorationLine"
        assert deleted.first.evaluate(style) == "line-through"
        assert inserted.first.evaluate(style) == "underline"
        expect(page.locator("#record-abstract")).to_have_text(AFTER)

        # the dashboard's export links download with the session cookie alone
        page.goto("/reviews/micro")
        with page.expect_download() as got:
            page.click("#export-jsonl")
        download = got.value
        assert download.suggested_filename == "micro.jsonl"
        lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
        rows_out = {r["pmid"]: r for r in map(json.loads, lines)}
        assert set(rows_out) == {"601", "602", "603"}
        assert rows_out[kept]["status"] == "excluded"
        assert [d["decision"] for d in rows_out[kept]["decisions"]] == ["exclude"]
        assert rows_out[revised]["abstract"] == AFTER
        with page.expect_download() as got:
            page.click("#export-csv")
        table = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text("utf-8"))))
        assert {r["pmid"]: r["status"] for r in table} == {
            kept: "excluded",
            decided[0]: "included",
            decided[1]: "included",
        }
        page.close()
