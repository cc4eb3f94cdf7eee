"""EutilsClient against a real local E-utilities server (tests/eutils_server.py).

No mocks: every test goes through sockets to ``FakeEutils``, which answers like
NCBI including its failures.  Backoff waits are recorded through the injected
``sleep`` (one test uses real sleeping with tiny backoff values).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from lxml import etree

from services.pubmed.client import (
    EutilsClient,
    EutilsError,
    RetrievalCapError,
    SearchResult,
)
from services.pubmed.ratelimit import LocalRateLimiter
from services.settings import Settings
from tests.eutils_server import (
    FakeEutils,
    FakeRecord,
    iter_article_pmids,
    load_real_records,
    synthetic_record,
)

START = date(2024, 1, 1)
CAP = 50


def make_records(n: int, first_pmid: int = 30_000_000) -> list[FakeRecord]:
    """``n`` synthetic records, one entry date per day from START, PMIDs ascending with time."""
    return [
        synthetic_record(str(first_pmid + i), title=f"Record {i}", edat=START + timedelta(days=i))
        for i in range(n)
    ]


class Sleeps(list[float]):
    """Records backoff waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[FakeEutils]:
    with FakeEutils(make_records(60), retrieval_cap=CAP) as fake:
        yield fake


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def make_settings(server: FakeEutils, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "eutils_url": server.base_url,
        "ncbi_api_key": "secret-key",
        "ncbi_email": "dev@example.org",
        "ncbi_tool": "livescreen-tests",
        "http_backoff": 0.01,
        "http_retries": 3,
        "http_timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_client(
    server: FakeEutils, session: requests.Session, sleeps: Sleeps | None = None, **overrides: object
) -> EutilsClient:
    return EutilsClient(
        make_settings(server, **overrides),
        session=session,
        limiter=LocalRateLimiter(1000),  # the limit is not the point here
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=random.Random(7),
    )


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(server: FakeEutils, session: requests.Session, sleeps: Sleeps) -> EutilsClient:
    return make_client(server, session, sleeps)


# -- the happy paths -------------------------------------------------------------------


def test_esearch_parses_count_webenv_and_ids(client: EutilsClient, server: FakeEutils) -> None:
    result = client.esearch("psilocybin", retmax=5)
    assert isinstance(result, SearchResult)
    assert result.count == 60
    assert result.webenv and result.webenv.startswith("MCID_")
    assert result.query_key == "1"
    # Newest first, like PubMed.
    assert result.ids == [str(30_000_059 - i) for i in range(5)]
    assert result.phrases_not_found == []
    assert client.requests_made == 1


def test_every_request_identifies_itself(client: EutilsClient, server: FakeEutils) -> None:
    result = client.esearch("ALL")
    client.efetch_history(result.webenv or "", result.query_key or "", retstart=0, retmax=2)
    client.efetch_ids(["30000001"])
    assert len(server.requests) == 3
    for logged in server.requests:
        assert logged.params["tool"] == "livescreen-tests"
        assert logged.params["email"] == "dev@example.org"
        assert logged.params["api_key"] == "secret-key"
        assert logged.params["db"] == "pubmed"
        assert logged.status == 200
    assert server.requests[0].params["usehistory"] == "y"


def test_email_and_api_key_are_left_out_when_not_configured(
    server: FakeEutils, session: requests.Session
) -> None:
    client = make_client(server, session, ncbi_api_key="", ncbi_email="")
    client.esearch("x")
    params = server.requests[-1].params
    assert "api_key" not in params and "email" not in params
    assert params["tool"] == "livescreen-tests"


def test_esearch_date_window_is_inclusive(client: EutilsClient, server: FakeEutils) -> None:
    # START + 10 days .. START + 19 days: ten records.
    result = client.esearch(
        "x", mindate="2024/01/11", maxdate="2024/01/20", datetype="edat", retmax=100
    )
    assert result.count == 10
    assert result.ids == [str(30_000_000 + i) for i in range(19, 9, -1)]
    sent = server.requests[-1].params
    assert (sent["datetype"], sent["mindate"], sent["maxdate"]) == (
        "edat",
        "2024/01/11",
        "2024/01/20",
    )

    server.update("30000002", mdat=date(2024, 6, 1))
    revised = client.esearch("x", mindate="2024/06", maxdate="2024/06", datetype="mdat")
    assert revised.count == 1


def test_half_a_date_window_is_refused(client: EutilsClient) -> None:
    with pytest.raises(ValueError, match="together"):
        client.esearch("x", mindate="2024/01/01")
    assert client.requests_made == 0


def test_efetch_history_returns_the_right_records_in_order(client: EutilsClient) -> None:
    search = client.esearch("x", retmax=20)
    assert search.webenv and search.query_key
    body = client.efetch_history(search.webenv, search.query_key, retstart=5, retmax=10)
    assert list(iter_article_pmids(body)) == search.ids[5:15]
    assert body.rstrip().endswith(b"</PubmedArticleSet>")


def test_efetch_ids_uses_post_for_long_lists(session: requests.Session) -> None:
    records = make_records(250, first_pmid=40_000_000)
    with FakeEutils(records) as fake:
        client = make_client(fake, session)
        short = client.efetch_ids([r.pmid for r in records[:3]])
        assert list(iter_article_pmids(short)) == [r.pmid for r in records[:3]]
        assert fake.requests[-1].method == "GET"

        wanted = [r.pmid for r in records[:230]]
        body = client.efetch_ids(wanted)
        assert fake.requests[-1].method == "POST"
        assert fake.requests[-1].params["id"] == ",".join(wanted)
        assert list(iter_article_pmids(body)) == wanted


def test_efetch_ids_with_nothing_to_fetch_sends_nothing(client: EutilsClient) -> None:
    body = client.efetch_ids([])
    assert list(iter_article_pmids(body)) == []
    assert client.requests_made == 0


def test_long_search_terms_go_by_post(client: EutilsClient, server: FakeEutils) -> None:
    term = " OR ".join(f"term{i}[tiab]" for i in range(300))
    result = client.esearch(term)
    assert result.count == 60
    assert server.requests[-1].method == "POST"
    assert server.requests[-1].params["term"] == term


def test_dropped_pmids_are_listed_but_not_fetched(client: EutilsClient, server: FakeEutils) -> None:
    server.drop_pmids(["30000059"])
    search = client.esearch("x", retmax=3)
    assert "30000059" in search.ids
    body = client.efetch_ids(search.ids)
    assert list(iter_article_pmids(body)) == search.ids[1:]


def test_real_records_round_trip(shared_data: Path, session: requests.Session) -> None:
    records = load_real_records(shared_data)
    assert len(records) == 163  # 164 files, one is NCBI's empty answer
    by_pmid = {r.pmid: r for r in records}
    assert by_pmid["11618220"].edat == date(1987, 1, 1)
    assert by_pmid["11618220"].mdat == date(2019, 10, 27)
    with FakeEutils(records) as fake:
        client = make_client(fake, session)
        search = client.esearch("ALL", retmax=10)
        assert search.count == 163
        assert search.ids == sorted(by_pmid, key=int, reverse=True)[:10]
        body = client.efetch_history(
            search.webenv or "", search.query_key or "", retstart=0, retmax=10
        )
        root = etree.fromstring(body, etree.XMLParser(load_dtd=False, no_network=True))
        assert root.tag == "PubmedArticleSet"
        article = root.find("PubmedArticle")
        assert article is not None
        first = etree.tostring(article, encoding="utf-8", with_tail=False)
        assert first == by_pmid[search.ids[0]].xml


# -- failures NCBI is known for ------------------------------------------------------


def test_429_waits_at_least_retry_after(
    client: EutilsClient, server: FakeEutils, sleeps: Sleeps
) -> None:
    server.fail_next("esearch", 429, headers={"Retry-After": "3"})
    result = client.esearch("x")
    assert result.count == 60
    assert client.requests_made == 2
    assert len(sleeps) == 1 and sleeps[0] >= 3
    assert [r.status for r in server.requests] == [429, 200]


def test_429_default_ncbi_body_is_retried(
    client: EutilsClient, server: FakeEutils, sleeps: Sleeps
) -> None:
    server.fail_next("efetch", 429, times=2)
    body = client.efetch_ids(["30000001"])
    assert list(iter_article_pmids(body)) == ["30000001"]
    assert len(sleeps) == 2 and min(sleeps) >= 1  # the fake's default Retry-After: 1


def test_5xx_is_retried_then_succeeds(
    client: EutilsClient, server: FakeEutils, sleeps: Sleeps
) -> None:
    server.fail_next("efetch", 502, times=1)
    server.fail_next("efetch", 500, times=1)
    body = client.efetch_ids(["30000001", "30000002"])
    assert list(iter_article_pmids(body)) == ["30000001", "30000002"]
    assert client.requests_made == 3
    assert len(sleeps) == 2
    # Full jitter below an exponential ceiling (base 0.01 s).
    assert 0 <= sleeps[0] <= 0.01 and 0 <= sleeps[1] <= 0.02


def test_persistent_500_gives_up_after_all_attempts(
    client: EutilsClient, server: FakeEutils, sleeps: Sleeps
) -> None:
    server.fail_next("esearch", 500, times=10)
    with pytest.raises(EutilsError) as info:
        client.esearch("x")
    assert not isinstance(info.value, RetrievalCapError)
    message = str(info.value)
    assert "4 attempts" in message and "HTTP 500" in message
    assert "secret-key" not in message
    assert client.requests_made == 4 == len(server.requests)
    assert len(sleeps) == 3  # no pointless wait after the last attempt


def test_truncated_bodies_are_retried(client: EutilsClient, server: FakeEutils) -> None:
    server.truncate_next("efetch")
    body = client.efetch_ids(["30000001", "30000002", "30000003"])
    assert list(iter_article_pmids(body)) == ["30000001", "30000002", "30000003"]
    assert client.requests_made == 2

    server.truncate_next("esearch")
    assert client.esearch("x").count == 60
    assert client.requests_made == 4


def test_connection_cut_mid_body_is_retried(client: EutilsClient, server: FakeEutils) -> None:
    server.truncate_next("efetch", keep_length=True)
    body = client.efetch_ids(["30000001", "30000002"])
    assert list(iter_article_pmids(body)) == ["30000001", "30000002"]
    assert client.requests_made == 2


def test_always_truncated_efetch_fails_with_reason(
    client: EutilsClient, server: FakeEutils
) -> None:
    server.truncate_next("efetch", times=10)
    with pytest.raises(EutilsError, match="truncated"):
        client.efetch_ids(["30000001"])


def test_timeouts_are_retried_with_real_sleeps(
    server: FakeEutils, session: requests.Session
) -> None:
    client = EutilsClient(
        make_settings(server, http_timeout=0.3, http_backoff=0.01),
        session=session,
        limiter=LocalRateLimiter(1000),
    )
    server.delay_next("esearch", 1.5)
    started = time.monotonic()
    assert client.esearch("x").count == 60
    assert client.requests_made == 2
    assert time.monotonic() - started < 1.5  # gave up on the slow answer, did not wait it out


def test_connection_errors_are_retried(session: requests.Session, sleeps: Sleeps) -> None:
    with FakeEutils() as fake:
        settings = make_settings(fake, http_retries=2)
    # The server is stopped: nothing listens on that port any more.
    client = EutilsClient(settings, session=session, limiter=LocalRateLimiter(1000), sleep=sleeps)
    with pytest.raises(EutilsError, match="3 attempts.*connection error") as failure:
        client.esearch("x")
    assert client.requests_made == 3 and len(sleeps) == 2
    # The message is for logs and `livescreen status`: no URL, so no API key in it.
    assert "secret-key" not in str(failure.value) and "esearch.fcgi?" not in str(failure.value)


def test_unparseable_200_is_retried(client: EutilsClient, server: FakeEutils) -> None:
    server.fail_next("esearch", 200, body=b"<html><body>Backend busy</body></html>")
    server.fail_next("esearch", 200, body=b"<eSearchResult><RetMax>0</RetMax></eSearchResult>")
    assert client.esearch("x").count == 60
    assert client.requests_made == 3


# -- permanent errors ---------------------------------------------------------------


def test_phrase_not_found_with_no_hits_is_count_zero(
    client: EutilsClient, server: FakeEutils, shared_data: Path
) -> None:
    body = (shared_data / "biopython" / "esearch8.xml").read_bytes()
    server.fail_next("esearch", 200, body=body)
    result = client.esearch("abcXYZ")
    assert result == SearchResult(
        count=0, webenv=None, query_key=None, ids=[], phrases_not_found=["abcXYZ"]
    )
    assert client.requests_made == 1


def test_real_ncbi_error_shapes_are_understood(
    client: EutilsClient, server: FakeEutils, shared_data: Path
) -> None:
    samples = shared_data / "ncbi-eutils-samples"
    # A partial hit: one phrase not found, the rest of the query answered.
    server.fail_next("esearch", 200, body=(samples / "esearch.error.xml").read_bytes())
    partial = client.esearch("obstetrics[MeSH Terms] OR fleegle[MeSH Terms]")
    assert partial.count == 5163 and len(partial.ids) == 20
    assert partial.phrases_not_found == ["fleegle[MeSH Terms]"]
    # A real <ERROR>: permanent, NCBI's words, no retry.
    server.fail_next("esearch", 200, body=(samples / "esearch.baderror.xml").read_bytes())
    with pytest.raises(EutilsError, match="Invalid db name specified: fleegle"):
        client.esearch("x")
    assert client.requests_made == 2
    # And the real search result with history parses as such.
    server.fail_next("esearch", 200, body=(shared_data / "biopython" / "esearch2.xml").read_bytes())
    real = client.esearch("cancer")
    assert real.count == 42249 and real.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert real.query_key == "1" and real.ids[0] == "41297076" and len(real.ids) == 100


def test_error_element_is_permanent(client: EutilsClient, server: FakeEutils) -> None:
    server.fail_next(
        "esearch",
        200,
        body=b"<eSearchResult><ERROR>Invalid query syntax near ((</ERROR></eSearchResult>",
    )
    with pytest.raises(EutilsError, match="Invalid query syntax") as info:
        client.esearch("((")
    assert not isinstance(info.value, RetrievalCapError)
    assert client.requests_made == 1


def test_retrieval_cap_in_esearch(client: EutilsClient) -> None:
    assert client.esearch("x", retstart=CAP - 1, retmax=10).ids == ["30000010"]
    with pytest.raises(RetrievalCapError, match=f"cannot be larger than {CAP - 1}"):
        client.esearch("x", retstart=CAP, retmax=10)
    assert client.requests_made == 2  # not retried


def test_real_cap_text_is_recognised(client: EutilsClient, server: FakeEutils) -> None:
    text = (
        "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
        "ESearch can only retrieve the first 9,999 records matching the query."
    )
    server.fail_next(
        "esearch", 200, body=f"<eSearchResult><ERROR>{text}</ERROR></eSearchResult>".encode()
    )
    with pytest.raises(RetrievalCapError) as info:
        client.esearch("x", retstart=9999)
    assert "9,999" in str(info.value)


def test_retrieval_cap_in_efetch_history(client: EutilsClient) -> None:
    search = client.esearch("x")
    assert search.webenv and search.query_key
    last = client.efetch_history(search.webenv, search.query_key, retstart=CAP - 5, retmax=20)
    assert len(list(iter_article_pmids(last))) == 5  # clipped at the cap
    with pytest.raises(RetrievalCapError):
        client.efetch_history(search.webenv, search.query_key, retstart=CAP, retmax=10)


def test_bad_request_is_not_retried(
    client: EutilsClient, server: FakeEutils, sleeps: Sleeps
) -> None:
    with pytest.raises(EutilsError) as info:
        client.esearch("x", mindate="2024", maxdate="2025", datetype="bogus")
    message = str(info.value)
    assert "HTTP 400" in message and "Invalid datetype: bogus" in message
    assert "datetype=bogus" in message
    assert "secret-key" not in message and "http://" not in message
    assert client.requests_made == 1 and sleeps == []


def test_unknown_webenv_is_permanent(client: EutilsClient) -> None:
    with pytest.raises(EutilsError, match="Cannot retrieve history data"):
        client.efetch_history("MCID_nope", "1", retstart=0, retmax=5)
    assert client.requests_made == 1


# -- rate limit -----------------------------------------------------------------------


def test_fake_enforces_ncbi_rate_limit(session: requests.Session) -> None:
    with FakeEutils(make_records(3), enforce_rate=True) as fake:
        url = fake.base_url + "esearch.fcgi"
        statuses = []
        for _ in range(5):
            with session.get(url, params={"db": "pubmed", "term": "x", "tool": "t"}) as r:
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert r.json()["error"] == "API rate limit exceeded"
                    assert r.json()["limit"] == "3"
                    assert r.headers["Retry-After"] == "1"
        assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]


def test_client_with_its_limiter_stays_under_ncbi_limit(session: requests.Session) -> None:
    with FakeEutils(make_records(5), enforce_rate=True) as fake:
        settings = make_settings(fake, ncbi_api_key="k")  # 10 requests per second
        client = EutilsClient(settings, session=session, limiter=LocalRateLimiter(10))
        for _ in range(14):
            client.esearch("x")
        assert fake.rate_limited == 0
        assert client.requests_made == 14


def test_owned_session_is_closed(server: FakeEutils) -> None:
    with EutilsClient(make_settings(server), limiter=LocalRateLimiter(1000)) as client:
        assert client.esearch("x").count == 60
