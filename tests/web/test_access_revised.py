"""Finding revised records: the "changed since decided" filter of the records list (API
``?revised=true`` and the page's checkbox) and the count on the list of reviews, which
keep to what blind mode lets a viewer know (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import lxml.html

from services.records import Record as ParsedRecord
from tests.web.conftest import Env
from tests.web.test_auth import sign_in
from tests.web.test_revised import AFTER, API, decide_all, setup, store

Client = Callable[..., httpx.Client]


def pmids(client: httpx.Client, query: str) -> list[str]:
    r = client.get(f"{API}/records?{query}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return sorted(i["pmid"] for i in body["items"])


def test_revised_filter_and_count(env: Env, client_for: Client) -> None:
    users = setup(env, blind=False)
    alice = client_for(users["alice"])
    decide_all(alice)
    assert pmids(alice, "revised=true") == []
    assert alice.get(API).json()["counts"]["revised"] == 0
    store(env, ParsedRecord(pmid="501", title="Low dose psilocybin trial", abstract=AFTER))
    assert pmids(alice, "revised=true") == ["501"]
    assert pmids(alice, "revised=false") == ["501", "502"]
    assert pmids(alice, "revised=true&q=psilocybin") == ["501"]  # with the other filters
    assert pmids(alice, "revised=true&q=another") == []
    assert pmids(alice, "revised=true&status=included") == ["501"]
    assert alice.get(API).json()["counts"]["revised"] == 1
    assert alice.get(f"{API}/records?revised=maybe").status_code == 422

    page = sign_in(client_for(), users["alice"])
    doc = lxml.html.fromstring(page.get("/reviews/micro/records?revised=true").text)
    assert doc.xpath("//table[@class='records']//tr/td[1]/text()") == ["501"]
    assert doc.xpath("//input[@name='revised']/@checked")
    unticked = lxml.html.fromstring(page.get("/reviews/micro/records").text)
    assert not unticked.xpath("//input[@name='revised']/@checked")
    assert len(unticked.xpath("//table[@class='records']//tr/td[1]")) == 2
    index = lxml.html.fromstring(page.get("/").text)
    flag = index.get_element_by_id("revised-micro")
    assert flag.text_content().startswith("1 changed since decided")
    assert flag.xpath(".//a/@href") == ["/reviews/micro/records?revised=true"]
    dashboard = lxml.html.fromstring(page.get("/reviews/micro").text)
    assert dashboard.get_element_by_id("count-revised").text_content() == "1"

    # deciding again on the new text takes it off the list and the count
    r = alice.post(f"{API}/records/{pmid_id(alice, '501')}/decisions", json={"decision": "exclude"})
    assert r.status_code == 201, r.text
    assert pmids(alice, "revised=true") == []
    assert 'id="revised-micro"' not in page.get("/").text
    assert 'id="count-revised"' not in page.get("/reviews/micro").text


def pmid_id(client: httpx.Client, pmid: str) -> int:
    items = client.get(f"{API}/records?q=pmid:{pmid}").json()["items"]
    return int(items[0]["id"])


def test_blind_reviewers_find_only_records_they_decided(env: Env, client_for: Client) -> None:
    users = setup(env, blind=True)
    decide_all(client_for(users["alice"]))
    store(env, ParsedRecord(pmid="501", title="Low dose psilocybin trial", abstract=AFTER))
    alice, bob, carol = (client_for(users[n]) for n in ("alice", "bob", "carol"))
    assert pmids(alice, "revised=true") == ["501"]
    assert pmids(bob, "revised=true") == []  # when alice decided is hidden from bob
    assert pmids(carol, "revised=true") == ["501"]  # resolvers see every decision
    assert alice.get(API).json()["counts"]["revised"] == 1
    assert bob.get(API).json()["counts"]["revised"] == 0
    assert carol.get(API).json()["counts"]["revised"] == 1
