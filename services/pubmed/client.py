"""HTTP client for NCBI E-utilities (ESearch and EFetch on PubMed).

The client owns everything that makes talking to NCBI reliable: the identity
parameters NCBI asks for (tool, email, api_key), pacing through a shared
:class:`~services.pubmed.ratelimit.RateLimiter`, and retries with exponential
backoff and full jitter for the failures NCBI is known for (429 under load,
5xx from the backend, dropped connections, and HTTP 200 responses that are cut
short or are not the XML they claim to be).  Permanent failures -- NCBI saying
the query or parameters are wrong, or the PubMed 9,999-record retrieval cap --
raise at once, carrying NCBI's own words.

Parsing the records themselves is not done here (see ``parse.py``); EFetch
bodies are returned as bytes after a cheap completeness check.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests

from services.pubmed.ratelimit import LocalRateLimiter, RateLimiter
from services.pubmed.responses import (
    EutilsError,
    RetrievalCapError,
    SearchResult,
    Transient,
    check_efetch,
    error_text_from_body,
    is_cap_message,
    parse_esearch,
)
from services.settings import Settings

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
"""Ceiling for one backoff wait; NCBI outages longer than this are for the caller to handle."""

POST_ID_THRESHOLD = 200
"""NCBI asks for HTTP POST when sending more than about 200 UIDs."""

POST_TERM_THRESHOLD = 1500
"""Long search terms (common in systematic reviews) go by POST to stay clear of URL limits."""

EMPTY_ARTICLE_SET = b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n</PubmedArticleSet>\n'

_T = TypeVar("_T")


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _without_url(exc: Exception) -> str:
    """The error text minus the request URL, which is long and would leak the API key."""
    text = re.sub(r"with url: \S+ ", "", str(exc))
    return re.sub(r"api_key=[^&\s]+", "api_key=***", text)


class EutilsClient:
    """ESearch/EFetch against PubMed with pacing, retries and NCBI-aware error handling.

    Collaborators come in as arguments so tests (and the Celery workers) decide
    them: ``session`` (a ``requests.Session``; one is created and owned when
    not given), ``limiter`` (shared pacing; a local limiter at the settings'
    rate by default), ``sleep`` (backoff waits) and ``rng`` (jitter).
    ``requests_made`` counts every HTTP request actually sent, retries included.

    A sweep uses one client from two threads (fetching ahead, and refetching around
    a bad record while storing): the count is kept under a lock, pacing is the
    limiter's (thread-safe), and requests' connection pool is safe to share.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.limiter: RateLimiter = (
            limiter if limiter is not None else LocalRateLimiter(settings.requests_per_second)
        )
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self.base_url = (
            settings.eutils_url
            if settings.eutils_url.endswith("/")
            else (settings.eutils_url + "/")
        )
        self.requests_made = 0
        self._count_lock = threading.Lock()  # a sweep fetches from two threads

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Close the session if this client created it (an injected one belongs to the caller)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "edat",
        usehistory: bool = True,
        retmax: int = 0,
        retstart: int = 0,
    ) -> SearchResult:
        """Run one PubMed search; dates are ``YYYY/MM/DD`` (or ``YYYY/MM``, ``YYYY``), inclusive.

        NCBI ignores a date window unless both ends are given, which would
        silently widen a sweep to all of PubMed; so one end alone is refused.
        """
        if (mindate is None) != (maxdate is None):
            raise ValueError("mindate and maxdate must be given together (NCBI ignores just one)")
        if retmax < 0 or retstart < 0:
            raise ValueError("retmax and retstart must be >= 0")
        params: dict[str, str] = {
            "term": term,
            "retmax": str(retmax),
            "retstart": str(retstart),
            "retmode": "xml",
        }
        if usehistory:
            params["usehistory"] = "y"
        if mindate is not None and maxdate is not None:
            params.update(datetype=datetype, mindate=mindate, maxdate=maxdate)
        method = "POST" if len(urlencode({"term": term})) > POST_TERM_THRESHOLD else "GET"
        return self._call("esearch.fcgi", params, method=method, handle=parse_esearch)

    def efetch_history(self, webenv: str, query_key: str, *, retstart: int, retmax: int) -> bytes:
        """Fetch ``retmax`` PubMed XML records from a stored search, starting at ``retstart``."""
        if retmax < 1 or retstart < 0:
            raise ValueError("retmax must be >= 1 and retstart >= 0")
        params = {
            "WebEnv": webenv,
            "query_key": str(query_key),
            "retstart": str(retstart),
            "retmax": str(retmax),
            "rettype": "xml",
            "retmode": "xml",
        }
        return self._call("efetch.fcgi", params, method="GET", handle=check_efetch)

    def efetch_ids(self, ids: Sequence[str]) -> bytes:
        """Fetch PubMed XML for the given PMIDs (POST above 200 ids, as NCBI asks).

        An empty list answers an empty ``PubmedArticleSet`` without a request.
        PMIDs PubMed does not know are simply absent from the answer.
        """
        id_list = [str(i).strip() for i in ids if str(i).strip()]
        if not id_list:
            return EMPTY_ARTICLE_SET
        params = {"id": ",".join(id_list), "rettype": "xml", "retmode": "xml"}
        method = "POST" if len(id_list) > POST_ID_THRESHOLD else "GET"
        return self._call("efetch.fcgi", params, method=method, handle=check_efetch)

    # -- transport -------------------------------------------------------------

    def _common_params(self) -> dict[str, str]:
        params = {"db": "pubmed", "tool": self.settings.ncbi_tool}
        if self.settings.ncbi_email:
            params["email"] = self.settings.ncbi_email
        if self.settings.ncbi_api_key:
            params["api_key"] = self.settings.ncbi_api_key
        return params

    @staticmethod
    def _describe(endpoint: str, params: Mapping[str, str]) -> str:
        """Endpoint and parameters for messages, without the URL and with the key hidden."""
        shown = []
        for key, value in params.items():
            if key == "api_key":
                value = "***"
            value = " ".join(value.split())  # a multi-line query must not end the message
            if len(value) > 120:
                value = value[:117] + "..."
            shown.append(f"{key}={value}")
        return f"{endpoint} ({', '.join(shown)})"

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(MAX_BACKOFF_SECONDS, self.settings.http_backoff * (2**attempt))
        return self._rng.uniform(0.0, ceiling)

    def _call(
        self,
        endpoint: str,
        params: dict[str, str],
        *,
        method: str,
        handle: Callable[[bytes], _T],
    ) -> _T:
        """Send one logical request, retrying transient failures; ``handle`` validates the body."""
        all_params = {**self._common_params(), **params}
        url = self.base_url + endpoint
        what = self._describe(endpoint, all_params)
        attempts = self.settings.http_retries + 1
        last_reason = ""
        for attempt in range(attempts):
            try:
                return self._attempt(url, method, all_params, what, handle)
            except Transient as exc:
                last_reason = str(exc)
                if attempt + 1 >= attempts:
                    break
                wait = self._backoff(attempt)
                if exc.retry_after is not None:
                    wait = max(wait, exc.retry_after)
                logger.warning(
                    "E-utilities %s: attempt %d/%d failed (%s); retrying in %.2fs",
                    endpoint,
                    attempt + 1,
                    attempts,
                    last_reason,
                    wait,
                )
                self._sleep(wait)
        raise EutilsError(f"{what} failed after {attempts} attempts; last error: {last_reason}")

    def _attempt(
        self,
        url: str,
        method: str,
        params: dict[str, str],
        what: str,
        handle: Callable[[bytes], _T],
    ) -> _T:
        """One paced HTTP request and its classification: result, Transient or EutilsError."""
        self.limiter.acquire()
        with self._count_lock:
            self.requests_made += 1
        request_kwargs: dict[str, Any] = (
            {"data": params} if method == "POST" else {"params": params}
        )
        try:
            response = self.session.request(
                method, url, timeout=self.settings.http_timeout, **request_kwargs
            )
        except requests.Timeout as exc:
            raise Transient(
                f"timeout after {self.settings.http_timeout}s: {_without_url(exc)}"
            ) from exc
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise Transient(f"connection error: {_without_url(exc)}") from exc
        with response:
            status = response.status_code
            body = response.content
            if status == 429:
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if retry_after is None:
                    # No hint: wait at least one base backoff, never a jittered zero.
                    retry_after = self.settings.http_backoff
                detail = error_text_from_body(body) or "rate limited"
                raise Transient(f"HTTP 429 ({detail})", retry_after=retry_after)
            if status >= 500:
                detail = error_text_from_body(body) or response.reason or ""
                raise Transient(f"HTTP {status} {detail}".rstrip())
            if status >= 400:
                ncbi_says = error_text_from_body(body)
                if ncbi_says and is_cap_message(ncbi_says):
                    raise RetrievalCapError(ncbi_says)
                text = ncbi_says or body[:300].decode("utf-8", "replace").strip()
                raise EutilsError(f"{what}: HTTP {status}: {text}")
            if status != 200:
                raise Transient(f"unexpected HTTP {status}")
            return handle(body)
