"""The registry client against a local server that speaks the v2 ``/studies`` API."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date

import pytest

from services.registry.client import (
    STUDY_FIELDS,
    ClinicalTrialsClient,
    RegistryError,
    StudiesQuery,
)
from services.settings import Settings
from tests.registry.server import FakeRegistry
from tests.registry.studies import nct, study

QUERY = StudiesQuery(term="microdose OR microdosing", intervention="psilocybin")


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    with FakeRegistry() as fake:
        yield fake


def client_for(fake: FakeRegistry, waits: list[float], **settings: float) -> ClinicalTrialsClient:
    values = {
        "http_backoff": 0.01,
        "http_retries": 3,
        "http_timeout": 5.0,
        "clinicaltrials_requests_per_minute": 60_000.0,
        **settings,
    }
    return ClinicalTrialsClient(
        Settings(clinicaltrials_url=fake.base_url, **values),  # type: ignore[arg-type]
        sleep=waits.append,
        rng=random.Random(7),
    )


def test_pages_follow_next_page_token_and_send_the_query(registry: FakeRegistry) -> None:
    registry.replace([study(nct(i)) for i in range(7)])
    waits: list[float] = []
    with client_for(registry, waits) as client:
        pages = list(client.pages(QUERY, page_size=3))
    assert [len(p.studies) for p in pages] == [3, 3, 1]
    assert pages[0].total_count == 7
    assert pages[-1].next_page_token is None
    first, second, third = registry.requests
    assert first["query.term"] == "microdose OR microdosing"
    assert first["query.intr"] == "psilocybin"
    assert "query.cond" not in first  # an empty search area is left out
    assert first["format"] == "json" and first["pageSize"] == "3"
    assert first["fields"].split(",") == list(STUDY_FIELDS)
    assert "pageToken" not in first and "filter.advanced" not in first
    assert second["pageToken"] == pages[0].next_page_token
    assert third["pageToken"] == pages[1].next_page_token
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for p in pages for s in p.studies]
    assert ids == [nct(i) for i in range(7)]
    assert client.requests_made == 3 and waits == []


def test_updated_since_asks_for_the_last_update_range(registry: FakeRegistry) -> None:
    registry.replace([study(nct(1), last_update="2026-10-01"), study(nct(2))])
    query = StudiesQuery(intervention="psilocybin", updated_since=date(2026, 11, 1))
    with client_for(registry, []) as client:
        (page,) = list(client.pages(query))
    assert registry.requests[0]["filter.advanced"] == (
        "AREA[LastUpdatePostDate]RANGE[2026-11-01,MAX]"
    )
    assert [s["protocolSection"]["identificationModule"]["nctId"] for s in page.studies] == [nct(2)]


def test_429_waits_as_long_as_retry_after_says(registry: FakeRegistry) -> None:
    registry.replace([study(nct(1))])
    registry.fail_next(429, {"Retry-After": "2"})
    waits: list[float] = []
    with client_for(registry, waits) as client:
        page = client.page(QUERY)
    assert len(page.studies) == 1
    assert client.requests_made == 2
    assert len(waits) == 1 and waits[0] >= 2.0  # at least the registry's hint


def test_503_is_retried_with_jittered_backoff(registry: FakeRegistry) -> None:
    registry.replace([study(nct(1))])
    registry.fail_next(503, times=2)
    waits: list[float] = []
    with client_for(registry, waits, http_backoff=0.5) as client:
        page = client.page(QUERY)
    assert len(page.studies) == 1 and client.requests_made == 3
    assert len(waits) == 2
    assert 0.0 <= waits[0] <= 0.5 and 0.0 <= waits[1] <= 1.0  # full jitter, doubling ceiling


def test_persistent_5xx_gives_up_naming_url_and_status(registry: FakeRegistry) -> None:
    registry.fail_next(502, times=10)
    with client_for(registry, [], http_retries=2) as client, pytest.raises(RegistryError) as err:
        client.page(QUERY)
    message = str(err.value)
    assert registry.base_url + "studies?" in message
    assert "after 3 attempts" in message and "HTTP 502" in message
    assert client.requests_made == 3


def test_400_is_permanent_and_quotes_the_registry(registry: FakeRegistry) -> None:
    registry.fail_next(400)
    waits: list[float] = []
    with client_for(registry, waits) as client, pytest.raises(RegistryError) as err:
        client.page(QUERY)
    assert "HTTP 400: Service answered 400" in str(err.value)
    assert registry.base_url in str(err.value)
    assert client.requests_made == 1 and waits == []


def test_a_body_that_is_not_json_is_retried(registry: FakeRegistry) -> None:
    registry.replace([study(nct(1))])
    registry.fail_next(200)  # a 200 whose body is plain text, as a cut-off proxy answer
    with client_for(registry, []) as client:
        assert len(client.page(QUERY).studies) == 1
    assert client.requests_made == 2


def test_timeout_is_on_every_request_and_retried() -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # accepts connections, never answers
    port = listener.getsockname()[1]
    try:
        settings = Settings(  # type: ignore[call-arg]
            clinicaltrials_url=f"http://127.0.0.1:{port}/api/v2",
            http_timeout=0.2,
            http_retries=1,
            http_backoff=0.0,
            clinicaltrials_requests_per_minute=60_000,
        )
        waits: list[float] = []
        with ClinicalTrialsClient(settings, sleep=waits.append) as client:
            timer = threading.Timer(10, listener.close)
            timer.start()
            with pytest.raises(RegistryError) as err:
                client.page(QUERY)
            timer.cancel()
        assert "timeout after 0.2s" in str(err.value) and "after 2 attempts" in str(err.value)
    finally:
        listener.close()


def test_a_query_without_any_search_area_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one of term, intervention, condition"):
        StudiesQuery(term="  ").params()


class CountingLimiter:
    def __init__(self) -> None:
        self.granted = 0

    def acquire(self) -> None:
        self.granted += 1


def test_every_request_retries_too_waits_for_the_limiter(registry: FakeRegistry) -> None:
    registry.replace([study(nct(i)) for i in range(4)])
    registry.fail_next(503)
    limiter = CountingLimiter()
    settings = Settings(clinicaltrials_url=registry.base_url, http_backoff=0.0)  # type: ignore[call-arg]
    with ClinicalTrialsClient(settings, limiter=limiter, sleep=lambda _: None) as client:
        list(client.pages(QUERY, page_size=2))
    assert client.requests_made == 3 and limiter.granted == 3


def test_the_default_pace_is_the_settings_requests_per_minute() -> None:
    settings = Settings(clinicaltrials_requests_per_minute=30)  # type: ignore[call-arg]
    with ClinicalTrialsClient(settings) as client:
        assert client.limiter.rate_per_second == 0.5  # type: ignore[attr-defined]
    assert Settings().clinicaltrials_requests_per_minute < 50  # under the registry's limit


def test_a_refused_connection_is_retried_then_named() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(  # type: ignore[call-arg]
        clinicaltrials_url=f"http://127.0.0.1:{port}/api/v2/",
        http_retries=1,
        http_backoff=0.0,
        clinicaltrials_requests_per_minute=60_000,
    )
    client = ClinicalTrialsClient(settings, sleep=lambda _: None)
    with client, pytest.raises(RegistryError) as err:
        client.page(QUERY)
    message = str(err.value)
    assert message.startswith(f"GET http://127.0.0.1:{port}/api/v2/studies?")
    assert "after 2 attempts; last: connection error: NewConnectionError:" in message
    assert "Connection refused" in message
