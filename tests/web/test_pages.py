"""The server-rendered pages, parsed: dashboard counts, screening page, conflicts, search."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import lxml.html

from tests.web import factories as f
from tests.web.conftest import Env
from tests.web.test_auth import csrf_of, sign_in

Client = Callable[..., httpx.Client]
ABSTRACT = "We gave a low dose of psilocybin in a randomised placebo-controlled trial."
CRITERIA = {
    "psilocybin": {
        "verdict": "yes",
        "confidence": 0.95,
        "evidence": [{"field": "abstract", "start": 21, "end": 31, "text": "psilocybin"}],
    },
    "low_dose": {
        "verdict": "yes",
        "confidence": 0.7,
        "evidence": [{"field": "abstract", "start": 9, "end": 17, "text": "low dose"}],
    },
    "controlled": {
        "verdict": "yes",
        "confidence": 0.8,
        "evidence": [{"field": "abstract", "start": 0, "end": 0, "text": "placebo-controlled"}],
    },
}


def setup(env: Env, screening: str = "single") -> dict:
    proto = f.protocol(screening=screening)
    env.add_protocol(proto)
    with env.session() as s:
        rev = f.review(s, proto)
        rec = f.record(
            s,
            rev,
            "555",
            title="Microdosing <b>psilocybin</b>",
            abstract=ABSTRACT,
            p_include=0.91,
            criteria=CRITERIA,
            publication_types=["Randomized Controlled Trial"],
            mesh_terms=["Psilocybin", "Humans"],
        )
        f.record(s, rev, "556", p_include=0.1)
        out = {"rid": rec.id, "alice": f.user(s, "alice"), "carol": f.user(s, "carol", "resolver")}
        out["bob"] = f.user(s, "bob")
        s.commit()
    return out


def test_screening_page_shows_record_and_evidence(env: Env, client_for: Client) -> None:
    w = setup(env)
    browser = sign_in(client_for(), w["alice"])
    page = browser.get("/reviews/micro/screen")
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    assert doc.get_element_by_id("record-title").text_content() == "Microdosing <b>psilocybin</b>"
    assert doc.get_element_by_id("record-journal").text_content() == "J Test"
    assert doc.get_element_by_id("record-year").text_content() == "2024"
    assert "Randomized Controlled Trial" in doc.get_element_by_id("record-pubtypes").text_content()
    assert "Psilocybin" in doc.get_element_by_id("record-mesh").text_content()
    marks = doc.xpath('//*[@id="record-abstract"]//mark')
    texts = {m.text_content(): m.get("class") for m in marks}
    assert set(texts) == {"low dose", "psilocybin", "placebo-controlled"}  # stale offset re-found
    assert len(set(texts.values())) == 3  # one colour per criterion
    assert doc.get_element_by_id("record-abstract").text_content() == ABSTRACT
    verdicts = {li.get("data-criterion") for li in doc.xpath('//li[contains(@class, "verdict")]')}
    assert verdicts == {"psilocybin", "low_dose", "controlled"}
    # the decision buttons sit in the bar above the record and submit the decision form
    assert [b.get("value") for b in doc.xpath('//button[@form="decide-form"]')] == [
        "include",
        "exclude",
        "maybe",
    ]
    assert len(doc.xpath('//input[@name="reasons"]')) == 4
    # the form works without JavaScript
    r = browser.post(
        f"/reviews/micro/records/{w['rid']}/decide",
        data={"decision": "exclude", "reasons": ["low_dose"], "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303 and r.headers["location"] == "/reviews/micro/screen"
    nxt = browser.get("/reviews/micro/screen")
    assert "Excluded PMID 555" in nxt.text
    detail = client_for(w["alice"]).get(f"/api/v1/reviews/micro/records/{w['rid']}").json()
    assert detail["decisions"][0]["reasons"] == ["low_dose"]


def test_bad_form_values_render_an_error_page(env: Env, client_for: Client) -> None:
    w = setup(env)
    browser = sign_in(client_for(), w["alice"])
    page = browser.get("/reviews/micro/screen")
    r = browser.post(
        f"/reviews/micro/records/{w['rid']}/decide",
        data={"decision": "perhaps", "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 422 and "include" in r.text and "<html" in r.text
    assert browser.get("/reviews/nope").status_code == 404


def test_dashboard_search_and_nothing_left(env: Env, client_for: Client) -> None:
    w = setup(env)
    browser = sign_in(client_for(), w["alice"])
    doc = lxml.html.fromstring(browser.get("/reviews/micro").text)
    assert doc.get_element_by_id("count-identified").text_content() == "2"
    assert doc.get_element_by_id("count-remaining").text_content() == "2"
    for _ in range(2):
        page = browser.get("/reviews/micro/screen")
        rid = lxml.html.fromstring(page.text).get_element_by_id("screen").get("data-record-id")
        browser.post(
            f"/reviews/micro/records/{rid}/decide",
            data={"decision": "include", "csrf_token": csrf_of(page.text)},
        )
    assert 'id="nothing-left"' in browser.get("/reviews/micro/screen").text
    doc = lxml.html.fromstring(browser.get("/reviews/micro").text)
    assert doc.get_element_by_id("count-included").text_content() == "2"
    found = lxml.html.fromstring(browser.get("/reviews/micro/records?q=microdosing").text)
    assert len(found.xpath('//table[contains(@class, "records")]//tr')) == 2  # header + 1
    assert "Microdosing" in browser.get(f"/reviews/micro/records/{w['rid']}").text
    assert browser.get("/reviews/micro/records?status=bogus").status_code == 422


def test_conflict_page_resolves(env: Env, client_for: Client) -> None:
    w = setup(env, screening="dual")
    for name, decision in (("alice", "include"), ("bob", "exclude")):
        api = client_for(w[name])
        rid = api.post("/api/v1/reviews/micro/next").json()["id"]
        api.post(f"/api/v1/reviews/micro/records/{rid}/decisions", json={"decision": decision})
    carol = sign_in(client_for(), w["carol"])
    page = carol.get("/reviews/micro/conflicts")
    doc = lxml.html.fromstring(page.text)
    assert len(doc.xpath('//section[contains(@class, "conflict")]')) == 1
    # both decisions, the abstract and its highlights, for judging the disagreement
    section = doc.xpath('//section[contains(@class, "conflict")]')[0]
    assert ABSTRACT in section.text_content()
    assert len(section.xpath('.//div[@id="record-abstract"]//mark')) >= 3
    assert {"alice", "bob"} <= {td.text_content() for td in section.xpath(".//table//td")}
    r = carol.post(
        f"/reviews/micro/records/{w['rid']}/resolve",
        data={"decision": "include", "note": "ok", "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303
    assert 'id="no-conflicts"' in carol.get("/reviews/micro/conflicts").text
