"""Search through the API and the records page, as a reviewer's client or browser sees it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import lxml.html

from tests.search.conftest import Corpus
from tests.web.test_auth import sign_in

API = "/api/v1/reviews/micro/records"


def pmids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["pmid"] for item in response.json()["items"]]


def test_api_query_filters_and_sort(
    corpus: Corpus, client_for: Callable[..., httpx.Client]
) -> None:
    api = client_for(corpus.token)
    assert sorted(pmids(api.get(API, params={"q": "mood psilocybin"}))) == ["1", "2"]
    assert pmids(api.get(API, params={"q": 'author:smith "LSD"'})) == ["3"]
    assert pmids(api.get(API, params={"q": "psilocyb*", "machine": "exclude"})) == ["2", "4"]
    assert pmids(api.get(API, params={"criterion": "low_dose=not_met"})) == ["2"]
    assert pmids(api.get(API, params={"q": "year:2015..2021", "sort": "p_include"})) == [
        "1",
        "2",
        "4",
    ]
    page = api.get(API, params={"q": "psilocyb*", "sort": "year", "per_page": 2, "page": 2})
    assert page.json()["total"] == 4 and pmids(page) == ["1", "4"]


def test_api_malformed_query_is_a_400_saying_what_to_change(
    corpus: Corpus, client_for: Callable[..., httpx.Client]
) -> None:
    api = client_for(corpus.token)
    unclosed = api.get(API, params={"q": '"low dose'})
    assert unclosed.status_code == 400
    assert "quote is not closed" in unclosed.json()["detail"]
    bad_year = api.get(API, params={"q": "year:2023..2019"})
    assert bad_year.status_code == 400 and "runs backwards" in bad_year.json()["detail"]
    assert api.get(API, params={"criterion": "low_dose"}).status_code == 422
    assert api.get(API, params={"machine": "maybe"}).status_code == 422


def test_page_search_box_filters_and_error(
    corpus: Corpus, client_for: Callable[..., httpx.Client]
) -> None:
    browser = sign_in(client_for(), corpus.token)
    page = browser.get(
        "/reviews/micro/records", params={"q": "psilocyb*", "machine": "exclude", "sort": "newest"}
    )
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    titles = [a.text_content() for a in doc.xpath("//table[@class='records']//a")]
    assert titles == ["Ketamine for depression", "Mood after psilocybin"]
    assert doc.xpath("//select[@name='machine']/option[@selected]")[0].get("value") == "exclude"
    broken = browser.get("/reviews/micro/records", params={"q": 'author:"smith'})
    assert broken.status_code == 400
    alert = lxml.html.fromstring(broken.text).xpath("//p[contains(@class, 'search-error')]")
    assert alert and "quote is not closed" in alert[0].text_content()
    assert lxml.html.fromstring(broken.text).xpath("//input[@name='q']")[0].get("value") == (
        'author:"smith'
    )
