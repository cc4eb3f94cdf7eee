"""HTTP client for the ClinicalTrials.gov v2 API (``GET /api/v2/studies``).

Why a client of its own rather than a generic GET: the registry answers a busy moment
with 429 (sometimes with ``Retry-After``) and its backend with 5xx, and a living review
sweeps unattended, so every request has a timeout and transient failures are retried
with exponential backoff and full jitter (the same policy as the PubMed client, from the
same settings). Permanent failures (400 for a query the registry cannot parse) raise at
once with the URL, the status and the registry's own words, since retrying cannot fix
them.

Paging follows the API's cursor: each page may carry ``nextPageToken``, which is sent
back as ``pageToken``; a token seen twice is an error rather than an endless loop. An
incremental sweep narrows the search with ``filter.advanced`` on ``LastUpdatePostDate``.
Parsing the studies is not done here (see ``parse.py``): pages come back as JSON values.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

import requests

from services.pubmed.client import MAX_BACKOFF_SECONDS, _retry_after_seconds
from services.pubmed.ratelimit import LocalRateLimiter, RateLimiter
from services.settings import Settings

logger = logging.getLogger(__name__)

STUDIES_ENDPOINT = "studies"
MAX_PAGE_SIZE = 1000  # the API's ceiling for pageSize
# Only the parts of a study the parser reads: a full record is many times larger
# (locations, eligibility, outcome measures, results).
STUDY_FIELDS: tuple[str, ...] = (
    "protocolSection.identificationModule",
    "protocolSection.statusModule",
    "protocolSection.descriptionModule",
    "protocolSection.conditionsModule",
    "protocolSection.designModule",
    "protocolSection.armsInterventionsModule",
    "hasResults",
)


class RegistryError(RuntimeError):
    """A registry request that retrying will not fix; the message names the URL and status."""


class _Transient(Exception):
    """Internal: this attempt failed in a way worth retrying; ``str`` is the reason."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class StudiesQuery:
    """What to ask the registry: its three search areas and an optional update window.

    ``updated_since`` keeps studies whose last update was posted on or after that day
    (the API's date ranges are inclusive, so the boundary day is asked again: a study
    updated later on the same day is not missed, one seen already comes back unchanged).
    """

    term: str = ""
    intervention: str = ""
    condition: str = ""
    updated_since: date | None = None

    def params(self) -> dict[str, str]:
        """The query as API parameters (empty search areas are left out)."""
        params: dict[str, str] = {}
        for name, value in (
            ("query.term", self.term),
            ("query.intr", self.intervention),
            ("query.cond", self.condition),
        ):
            if value.strip():
                params[name] = " ".join(value.split())
        if not params:
            raise ValueError("a registry query needs at least one of term, intervention, condition")
        if self.updated_since is not None:
            since = self.updated_since.isoformat()
            params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{since},MAX]"
        return params


@dataclass(frozen=True)
class StudyPage:
    """One page of results: the studies as sent, the cursor to the next page, the total."""

    studies: list[Any]
    next_page_token: str | None
    total_count: int | None


class ClinicalTrialsClient:
    """Pages of ``/studies`` with a timeout on every request and retries for 429 and 5xx.

    Collaborators come in as arguments so tests and workers decide them: ``session`` (a
    ``requests.Session``; one is created and owned when not given), ``limiter`` (pacing;
    by default the settings' requests per minute, as the registry limits each address),
    ``sleep`` (backoff waits) and ``rng`` (jitter). ``requests_made`` counts every request
    sent, retries too; each one waits for the limiter first.
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
        self.limiter: RateLimiter = (
            limiter
            if limiter is not None
            else LocalRateLimiter(settings.clinicaltrials_requests_per_minute / 60.0)
        )
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        base = settings.clinicaltrials_url
        self.base_url = base if base.endswith("/") else base + "/"
        self.requests_made = 0

    def close(self) -> None:
        """Close the session if this client created it (an injected one is the caller's)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> ClinicalTrialsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------

    def page(
        self, query: StudiesQuery, *, page_size: int = 100, page_token: str | None = None
    ) -> StudyPage:
        """One page of studies matching ``query``; ``page_token`` continues a search."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, got {page_size}")
        params = {
            **query.params(),
            "fields": ",".join(STUDY_FIELDS),
            "pageSize": str(page_size),
            "format": "json",
        }
        if page_token is None:
            params["countTotal"] = "true"  # asked once: the first page carries the total
        else:
            params["pageToken"] = page_token
        return self._call(STUDIES_ENDPOINT, params)

    def pages(self, query: StudiesQuery, *, page_size: int = 100) -> Iterator[StudyPage]:
        """Every page of a search, following ``nextPageToken`` until the registry stops."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self.page(query, page_size=page_size, page_token=token)
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token in seen:
                raise RegistryError(
                    f"{self.base_url}{STUDIES_ENDPOINT}: the registry sent page token "
                    f"{token!r} twice; paging stopped instead of looping"
                )
            seen.add(token)

    # -- transport -------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(MAX_BACKOFF_SECONDS, self.settings.http_backoff * (2**attempt))
        return self._rng.uniform(0.0, ceiling)

    def _call(self, endpoint: str, params: dict[str, str]) -> StudyPage:
        """One logical request, retrying transient failures; the URL is in every error."""
        url = self.base_url + endpoint
        shown = f"{url}?{urlencode(params)}"
        attempts = self.settings.http_retries + 1
        last_reason = ""
        for attempt in range(attempts):
            try:
                return self._attempt(url, params, shown)
            except _Transient as exc:
                last_reason = str(exc)
                if attempt + 1 >= attempts:
                    break
                wait = self._backoff(attempt)
                if exc.retry_after is not None:
                    wait = max(wait, exc.retry_after)
                logger.warning(
                    "ClinicalTrials.gov %s: attempt %d/%d failed (%s); retrying in %.2fs",
                    url,
                    attempt + 1,
                    attempts,
                    last_reason,
                    wait,
                )
                self._sleep(wait)
        raise RegistryError(f"GET {shown} failed after {attempts} attempts; last: {last_reason}")

    def _attempt(self, url: str, params: dict[str, str], shown: str) -> StudyPage:
        """One HTTP request and its classification: a page, _Transient or RegistryError."""
        self.limiter.acquire()
        self.requests_made += 1
        try:
            response = self.session.get(url, params=params, timeout=self.settings.http_timeout)
        except requests.Timeout as exc:
            raise _Transient(f"timeout after {self.settings.http_timeout:g}s") from exc
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise _Transient(f"connection error: {_cause(exc)}") from exc
        with response:
            status = response.status_code
            body = response.content
            if status == 429:
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                # No hint: wait at least one base backoff, never a jittered zero.
                raise _Transient(
                    "HTTP 429 (rate limited)",
                    retry_after=self.settings.http_backoff if retry_after is None else retry_after,
                )
            if status >= 500:
                raise _Transient(f"HTTP {status} {response.reason or ''}".rstrip())
            if status != 200:
                text = " ".join(body[:300].decode("utf-8", "replace").split())
                raise RegistryError(f"GET {shown}: HTTP {status}: {text or response.reason}")
            return _page_from(body)


def _cause(exc: Exception) -> str:
    """The root of a requests connection error in a few words (the URL is already shown):
    ``NewConnectionError: Failed to establish a new connection: [Errno 111] ...``."""
    text = str(exc)
    found = re.search(r"Caused by (\w+)\(", text)
    if not found:
        return f"{exc.__class__.__name__}: {text[:200]}"
    detail = text.rsplit("): ", 1)[-1]
    return f"{found.group(1)}: {detail.rstrip(chr(34) + chr(39) + ')')[:200]}"


def _page_from(body: bytes) -> StudyPage:
    """Check a 200 body is a page of studies; a cut-off or odd body is worth a retry."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise _Transient(f"response is not JSON ({len(body)} bytes: {exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("studies", []), list):
        raise _Transient("response is not a page of studies (no 'studies' list)")
    token = data.get("nextPageToken")
    total = data.get("totalCount")
    return StudyPage(
        studies=list(data.get("studies", [])),
        next_page_token=str(token) if token else None,
        total_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )
