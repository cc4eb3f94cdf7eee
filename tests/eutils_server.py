"""A local HTTP server that speaks enough NCBI E-utilities for the tests.

It is a real server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, a free
port, one background thread) so clients are tested through real sockets, URL
encoding, POST bodies, timeouts and connection errors -- never mocks.  It
answers ``esearch.fcgi`` and ``efetch.fcgi`` for ``db=pubmed`` the way NCBI
does, including the awkward parts: the WebEnv history server, the PubMed
retrieval cap (9,999 by default, configurable so tests can hit it with a few
dozen records), HTTP 429 with NCBI's JSON body, and scripted failures
(``fail_next``, ``truncate_next``, ``delay_next``, ``drop_pmids``).

Response shapes follow real NCBI output kept in ``shared/data``
(``biopython/esearch2.xml``, ``biopython/esearch8.xml``,
``ncbi-eutils-samples/esearch.baderror.xml`` and the metapub EFetch files).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

ESEARCH_HEADER = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n'
    b'<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
EFETCH_HEADER = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
EFETCH_ERROR_HEADER = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n'
    b'<!DOCTYPE eEfetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
)
DATETYPE_LABELS = {
    "edat": "Date - Entry",
    "mdat": "Date - Modification",
    "pdat": "Date - Publication",
}
ENDPOINTS = ("esearch", "efetch")


@dataclass
class FakeRecord:
    """One PubMed record as the fake knows it: its XML and the dates searches filter on.

    ``xml`` is a single ``<PubmedArticle>`` element.  ``pdat`` falls back to
    ``edat`` when absent.
    """

    pmid: str
    xml: bytes
    edat: date
    mdat: date
    pdat: date | None = None


@dataclass
class RequestLog:
    """One request as the server saw it; ``params`` merges the query string and a POST form."""

    method: str
    path: str
    params: dict[str, str]
    status: int


@dataclass
class _Script:
    """A scripted behaviour for the next request(s) to one endpoint."""

    kind: str  # "fail" | "truncate" | "cut" | "delay"
    times: int
    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class _Reply(Exception):
    """Internal: stop handling and send this status and body."""

    def __init__(self, status: int, body: bytes, content_type: str = "text/xml") -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type


def cap_error_text(cap: int) -> str:
    """NCBI's wording for the PubMed retrieval cap, scaled to the fake's cap."""
    return (
        "Search Backend failed: Exception:\n"
        f"'retstart' cannot be larger than {cap - 1}. For PubMed, ESearch can only retrieve "
        f"the first {cap:,} records matching the query. To obtain more than {cap:,} PubMed "
        "records, consider using EDirect that contains additional logic to batch PubMed "
        "search results automatically so that an arbitrary number can be retrieved. "
        "For details see https://www.ncbi.nlm.nih.gov/books/NBK25499/"
    )


def _esearch_error(message: str) -> bytes:
    return (
        ESEARCH_HEADER
        + b"<eSearchResult>\n\t<ERROR>"
        + _x(message)
        + b"</ERROR>\n</eSearchResult>\n"
    )


def _efetch_error(message: str) -> bytes:
    return (
        EFETCH_ERROR_HEADER
        + b"<eFetchResult>\n\t<ERROR>"
        + _x(message)
        + b"</ERROR>\n</eFetchResult>\n"
    )


def _x(text: str) -> bytes:
    return escape(text).encode("utf-8")


def _parse_ncbi_date(value: str, *, end: bool) -> date:
    """``YYYY``, ``YYYY/MM`` or ``YYYY/MM/DD`` as the first (or last, ``end``) day it covers."""
    m = re.fullmatch(r"(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?", value.strip())
    if not m:
        raise ValueError(value)
    year = int(m.group(1))
    if m.group(2) is None:
        return date(year, 12, 31) if end else date(year, 1, 1)
    month = int(m.group(2))
    if m.group(3) is None:
        if not end:
            return date(year, month, 1)
        next_month = date(year + (month == 12), month % 12 + 1, 1)
        return date.fromordinal(next_month.toordinal() - 1)
    return date(year, month, int(m.group(3)))


class FakeEutils:
    """An in-process E-utilities server over a fixed, editable set of PubMed records.

    Every term matches every record (``ALL`` included); the date window,
    paging, history and errors behave like NCBI.  Use as a context manager or
    call ``start()``/``stop()``.  ``enforce_rate`` answers 429 when more than 3
    (10 with ``api_key``) requests arrive within one second from one caller;
    ``require_tool`` answers 400 when a request lacks ``tool``.
    """

    def __init__(
        self,
        records: Iterable[FakeRecord] = (),
        *,
        retrieval_cap: int = 9999,
        enforce_rate: bool = False,
        require_tool: bool = True,
    ) -> None:
        self.retrieval_cap = retrieval_cap
        self.enforce_rate = enforce_rate
        self.require_tool = require_tool
        self.requests: list[RequestLog] = []
        self.rate_limited = 0
        self._lock = threading.Lock()
        self._records: dict[str, FakeRecord] = {}
        self._dropped: set[str] = set()
        self._history: dict[str, dict[str, list[str]]] = {}
        self._scripts: dict[str, deque[_Script]] = {e: deque() for e in ENDPOINTS}
        self._arrivals: dict[str, deque[float]] = {}
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for record in records:
            self.add(record)

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> FakeEutils:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed handlers and close the listening socket."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeEutils:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeEutils is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/entrez/eutils/"

    # -- records -----------------------------------------------------------------

    def add(self, record: FakeRecord) -> None:
        """Add (or overwrite) a record."""
        with self._lock:
            self._records[record.pmid] = record

    def replace(self, record: FakeRecord) -> None:
        """Swap in a revised version of an existing record (new XML, new mdat)."""
        with self._lock:
            if record.pmid not in self._records:
                raise KeyError(record.pmid)
            self._records[record.pmid] = record

    def update(
        self, pmid: str, *, xml: bytes | None = None, mdat: date | None = None
    ) -> FakeRecord:
        """Revise one record in place; returns the new version."""
        with self._lock:
            old = self._records[pmid]
            new = replace(
                old, xml=xml if xml is not None else old.xml, mdat=mdat if mdat else old.mdat
            )
            self._records[pmid] = new
            return new

    def remove(self, pmid: str) -> None:
        """Forget a record entirely (as if PubMed deleted it)."""
        with self._lock:
            self._records.pop(pmid, None)

    def records(self) -> list[FakeRecord]:
        with self._lock:
            return list(self._records.values())

    def drop_pmids(self, pmids: Iterable[str]) -> None:
        """ESearch keeps listing these PMIDs but EFetch never returns them."""
        with self._lock:
            self._dropped.update(str(p) for p in pmids)

    def restore_pmids(self, pmids: Iterable[str]) -> None:
        """EFetch returns these (dropped) PMIDs again, as when PubMed fixes a record."""
        with self._lock:
            self._dropped.difference_update(str(p) for p in pmids)

    # -- scripted failures ---------------------------------------------------------

    def fail_next(
        self,
        endpoint: str,
        status: int,
        *,
        times: int = 1,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with this status/body.

        With ``status=200`` and a ``body`` this serves any canned NCBI response.
        A 429 without a body gets NCBI's JSON and ``Retry-After: 1`` unless
        ``headers`` say otherwise.
        """
        endpoint = self._endpoint(endpoint)
        hdrs = dict(headers or {})
        if body is None:
            if status == 429:
                body = json.dumps(
                    {
                        "error": "API rate limit exceeded",
                        "api-key": "127.0.0.1",
                        "count": "4",
                        "limit": "3",
                    }
                ).encode()
                hdrs.setdefault("Content-Type", "application/json")
                if headers is None:
                    hdrs.setdefault("Retry-After", "1")
            elif status >= 500:
                body = b"<html><body><h1>Internal Server Error</h1></body></html>"
                hdrs.setdefault("Content-Type", "text/html")
            else:
                body = (_esearch_error if endpoint == "esearch" else _efetch_error)(
                    f"Scripted failure {status}"
                )
        with self._lock:
            self._scripts[endpoint].append(
                _Script("fail", times, status=status, body=body, headers=hdrs)
            )

    def truncate_next(self, endpoint: str, times: int = 1, *, keep_length: bool = False) -> None:
        """Send only the first half of the next ``times`` bodies (still HTTP 200).

        By default ``Content-Length`` matches the short body, so only a check of
        the content can notice; ``keep_length=True`` declares the full length
        and closes the connection mid-body (the HTTP layer notices).
        """
        kind = "cut" if keep_length else "truncate"
        with self._lock:
            self._scripts[self._endpoint(endpoint)].append(_Script(kind, times))

    def delay_next(self, endpoint: str, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before answering the next ``times`` requests (for timeouts)."""
        with self._lock:
            self._scripts[self._endpoint(endpoint)].append(_Script("delay", times, seconds=seconds))

    @staticmethod
    def _endpoint(endpoint: str) -> str:
        name = endpoint.rsplit("/", 1)[-1].removesuffix(".fcgi")
        if name not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; use one of {ENDPOINTS}")
        return name

    def _take_script(self, endpoint: str) -> _Script | None:
        with self._lock:
            queue = self._scripts[endpoint]
            if not queue:
                return None
            script = queue[0]
            script.times -= 1
            if script.times <= 0:
                queue.popleft()
            return script

    # -- request handling ------------------------------------------------------

    def _over_rate(self, params: dict[str, str], client_ip: str) -> tuple[bool, str, int]:
        """Sliding one-second window per API key (or IP), like NCBI's accounting."""
        key = params.get("api_key") or client_ip
        limit = 10 if params.get("api_key") else 3
        now = time.monotonic()
        with self._lock:
            arrivals = self._arrivals.setdefault(key, deque())
            while arrivals and now - arrivals[0] >= 1.0:
                arrivals.popleft()
            if len(arrivals) >= limit:
                self.rate_limited += 1
                return True, key, len(arrivals) + 1
            arrivals.append(now)
            return False, key, len(arrivals)

    def _handle(
        self, method: str, path: str, params: dict[str, str], client_ip: str
    ) -> tuple[int, bytes, dict[str, str], str | None]:
        """Decide the answer: (status, body, headers, truncation: None, "truncate" or "cut")."""
        endpoint = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        if endpoint not in ENDPOINTS:
            return 404, b"Not Found", {"Content-Type": "text/plain"}, None
        truncate: str | None = None
        script = self._take_script(endpoint)
        if script is not None and script.kind == "delay":
            self._stopping.wait(script.seconds)
        elif script is not None and script.kind == "fail":
            return script.status, script.body or b"", dict(script.headers), None
        elif script is not None and script.kind in ("truncate", "cut"):
            truncate = script.kind
        if self.enforce_rate:
            over, key, count = self._over_rate(params, client_ip)
            if over:
                limit = 10 if params.get("api_key") else 3
                body = json.dumps(
                    {
                        "error": "API rate limit exceeded",
                        "api-key": key,
                        "count": str(count),
                        "limit": str(limit),
                    }
                ).encode()
                return 429, body, {"Content-Type": "application/json", "Retry-After": "1"}, None
        try:
            if self.require_tool and not params.get("tool"):
                raise _Reply(400, self._error(endpoint, "Parameter 'tool' is required"))
            body = self._esearch(params) if endpoint == "esearch" else self._efetch(params)
        except _Reply as reply:
            return reply.status, reply.body, {"Content-Type": reply.content_type}, None
        return 200, body, {"Content-Type": "text/xml; charset=UTF-8"}, truncate

    @staticmethod
    def _error(endpoint: str, message: str) -> bytes:
        return _esearch_error(message) if endpoint == "esearch" else _efetch_error(message)

    @staticmethod
    def _int_param(params: dict[str, str], name: str, default: int, endpoint: str) -> int:
        raw = params.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit():
            raise _Reply(400, FakeEutils._error(endpoint, f"Invalid {name} value: {raw}"))
        return int(raw)

    def _esearch(self, params: dict[str, str]) -> bytes:
        db = params.get("db", "pubmed")
        if db != "pubmed":
            # What NCBI really answers (esearch.baderror.xml): HTTP 200 with ERROR.
            return _esearch_error(f"Invalid db name specified: {db}")
        term = params.get("term", "").strip()
        if not term:
            return _esearch_error("Empty term and query_key - nothing todo")
        datetype = params.get("datetype", "edat").strip().lower() or "edat"
        if datetype not in DATETYPE_LABELS:
            raise _Reply(400, _esearch_error(f"Invalid datetype: {datetype}"))
        retstart = self._int_param(params, "retstart", 0, "esearch")
        retmax = self._int_param(params, "retmax", 20, "esearch")
        mindate_s, maxdate_s = params.get("mindate"), params.get("maxdate")
        window: tuple[date, date] | None = None
        if mindate_s and maxdate_s:  # NCBI ignores a half-open window
            try:
                window = (
                    _parse_ncbi_date(mindate_s, end=False),
                    _parse_ncbi_date(maxdate_s, end=True),
                )
            except ValueError as exc:
                raise _Reply(400, _esearch_error(f"Invalid date: {exc}")) from exc
        with self._lock:
            matched = []
            for rec in self._records.values():
                if window is not None:
                    when = {"edat": rec.edat, "mdat": rec.mdat, "pdat": rec.pdat or rec.edat}[
                        datetype
                    ]
                    if not window[0] <= when <= window[1]:
                        continue
                matched.append(rec.pmid)
        matched.sort(key=int, reverse=True)  # PubMed's default order: newest first
        count = len(matched)
        cap = self.retrieval_cap
        if retstart >= cap and count > cap:
            return _esearch_error(cap_error_text(cap))
        page_end = min(retstart + retmax, cap, count)
        page = matched[retstart:page_end] if retstart < page_end else []

        webenv = query_key = None
        if params.get("usehistory", "").lower() == "y":
            webenv = params.get("WebEnv") or ""
            with self._lock:
                if webenv not in self._history:
                    webenv = f"MCID_{uuid.uuid4().hex[:24]}"
                    self._history[webenv] = {}
                keys = self._history[webenv]
                query_key = str(len(keys) + 1)
                keys[query_key] = matched

        translation = f"({escape(term)}[All Fields])" if term.upper() != "ALL" else "all[sb]"
        if window is not None:
            translation += (
                f" AND {window[0]:%Y/%m/%d}:{window[1]:%Y/%m/%d}[{DATETYPE_LABELS[datetype]}]"
            )
        parts = [
            ESEARCH_HEADER,
            f"<eSearchResult><Count>{count}</Count><RetMax>{len(page)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>".encode(),
        ]
        if webenv is not None:
            parts.append(f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv>".encode())
        if page:
            parts.append(b"<IdList>\n" + b"".join(f"<Id>{p}</Id>\n".encode() for p in page))
            parts.append(b"</IdList>")
        else:
            parts.append(b"<IdList/>")
        parts.append(b"<TranslationSet/>")
        parts.append(f"<QueryTranslation>{translation}</QueryTranslation>".encode())
        if count == 0:
            parts.append(
                b"<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
            )
        parts.append(b"</eSearchResult>\n")
        return b"".join(parts)

    def _efetch(self, params: dict[str, str]) -> bytes:
        db = params.get("db", "")
        if db != "pubmed":
            raise _Reply(400, _efetch_error(f"Invalid db name specified: {db}"))
        retmode = params.get("retmode", "xml").lower()
        if retmode != "xml":
            raise _Reply(400, _efetch_error(f"Unsupported retmode for this fake: {retmode}"))
        if params.get("id"):
            ids = [i.strip() for i in params["id"].split(",") if i.strip()]
            bad = [i for i in ids if not i.isdigit()]
            if bad:
                raise _Reply(400, _efetch_error(f"Invalid uid {bad[0]} at position 0"))
        elif params.get("WebEnv"):
            webenv, query_key = params["WebEnv"], params.get("query_key", "1")
            retstart = self._int_param(params, "retstart", 0, "efetch")
            retmax = self._int_param(params, "retmax", 20, "efetch")
            with self._lock:
                stored = self._history.get(webenv, {}).get(query_key)
            if stored is None:
                raise _Reply(
                    400,
                    _efetch_error(
                        f"Cannot retrieve history data: query_key {query_key} "
                        f"not found in WebEnv {webenv}"
                    ),
                )
            if retstart >= self.retrieval_cap and len(stored) > self.retrieval_cap:
                raise _Reply(400, _efetch_error(cap_error_text(self.retrieval_cap)))
            if stored and retstart >= len(stored):
                raise _Reply(
                    400,
                    _efetch_error(
                        "Cannot retrieve history data: OUT OF RANGE. Parameter "
                        f"retstart={retstart} + {retmax} is greater than number of records "
                        f"available in history. History includes {len(stored)} IDs."
                    ),
                )
            ids = stored[retstart : min(retstart + retmax, self.retrieval_cap)]
        else:
            raise _Reply(400, _efetch_error("Empty id list - nothing todo"))
        with self._lock:
            chunks = [
                self._records[i].xml for i in ids if i in self._records and i not in self._dropped
            ]
        return (
            EFETCH_HEADER
            + b"<PubmedArticleSet>\n"
            + b"\n".join(chunks)
            + b"\n</PubmedArticleSet>\n"
        )

    def _log(self, entry: RequestLog) -> None:
        with self._lock:
            self.requests.append(entry)


class _Handler(BaseHTTPRequestHandler):
    """Parses GET/POST parameters and hands them to the owning FakeEutils."""

    fake: FakeEutils  # set on the per-server subclass
    server_version = "FakeEutils/1.0"

    def do_GET(self) -> None:
        self._serve("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve("POST", self.rfile.read(length) if length else b"")

    def _serve(self, method: str, form: bytes) -> None:
        split = urlsplit(self.path)
        params: dict[str, str] = {}
        for source in (split.query, form.decode("utf-8", "replace")):
            for key, values in parse_qs(source, keep_blank_values=True).items():
                params[key] = values[-1]
        status, body, headers, truncate = self.fake._handle(
            method, split.path, params, self.client_address[0]
        )
        declared = len(body)
        if truncate:
            body = body[: len(body) // 2]
            if truncate == "truncate":
                declared = len(body)
        self.fake._log(RequestLog(method, split.path, params, status))
        try:
            self.send_response(status)
            headers.setdefault("Content-Type", "text/xml")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it
        self.close_connection = True  # HTTP/1.0 anyway; a cut body must end with the socket

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; ``FakeEutils.requests`` is the log."""


# -- record builders ---------------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _date_of(element: etree._Element | None) -> date | None:
    """A PubMed date element (Year/Month/Day, month possibly a name) as a date."""
    if element is None:
        return None
    year = element.findtext("Year")
    if not year or not year.strip().isdigit():
        return None
    month_text = (element.findtext("Month") or "1").strip()
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text[:3].lower(), 1)
    day_text = (element.findtext("Day") or "1").strip()
    day = int(day_text) if day_text.isdigit() else 1
    try:
        return date(int(year), month, day)
    except ValueError:
        return date(int(year), month, 1)


def _record_from_element(article: etree._Element) -> FakeRecord | None:
    pmid = (article.findtext("MedlineCitation/PMID") or "").strip()
    if not pmid:
        return None
    edat = (
        _date_of(article.find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']"))
        or _date_of(article.find("PubmedData/History/PubMedPubDate[@PubStatus='pubmed']"))
        or _date_of(article.find("MedlineCitation/DateCompleted"))
        or date(1900, 1, 1)
    )
    mdat = _date_of(article.find("MedlineCitation/DateRevised")) or edat
    pdat = _date_of(article.find("MedlineCitation/Article/ArticleDate")) or _date_of(
        article.find("MedlineCitation/Article/Journal/JournalIssue/PubDate")
    )
    xml = etree.tostring(article, encoding="utf-8", with_tail=False)
    if xml.startswith(b"<?xml"):
        xml = xml.split(b"?>", 1)[1].lstrip()
    return FakeRecord(pmid=pmid, xml=xml, edat=edat, mdat=mdat, pdat=pdat)


def load_real_records(shared_data: Path) -> list[FakeRecord]:
    """The real EFetch records under ``metapub/pmid_xml`` as FakeRecords, sorted by PMID.

    Files holding no ``<PubmedArticle>`` (NCBI's empty answer for an unknown
    PMID is among them) contribute nothing.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    records: list[FakeRecord] = []
    for path in sorted((shared_data / "metapub" / "pmid_xml").glob("*.xml")):
        root = etree.parse(str(path), parser).getroot()
        for article in root.iter("PubmedArticle"):
            record = _record_from_element(article)
            if record is not None:
                records.append(record)
    records.sort(key=lambda r: int(r.pmid))
    return records


def synthetic_record(
    pmid: str,
    *,
    title: str = "Synthetic record for tests",
    abstract: str = "This abstract was generated for a test corpus.",
    edat: date,
    mdat: date | None = None,
    version: int = 1,
) -> FakeRecord:
    """A small but valid ``<PubmedArticle>`` (quick enough for 50,000-record corpora).

    ``version`` goes into ``<PMID Version>``; bump it (with a later ``mdat``)
    to make a revised copy of a record for ``FakeEutils.replace``.
    """
    mdat = mdat or edat
    xml = (
        '<PubmedArticle><MedlineCitation Status="PubMed-not-MEDLINE" Owner="NLM">'
        f'<PMID Version="{version}">{pmid}</PMID>'
        f"<DateRevised><Year>{mdat.year}</Year><Month>{mdat.month:02d}</Month>"
        f"<Day>{mdat.day:02d}</Day></DateRevised>"
        '<Article PubModel="Electronic"><Journal><ISSN IssnType="Electronic">0000-0000</ISSN>'
        '<JournalIssue CitedMedium="Internet"><Volume>1</Volume>'
        f"<PubDate><Year>{edat.year}</Year><Month>{edat.month:02d}</Month>"
        f"<Day>{edat.day:02d}</Day></PubDate></JournalIssue>"
        "<Title>Journal of Synthetic Records</Title><ISOAbbreviation>J Synth Rec</ISOAbbreviation>"
        f"</Journal><ArticleTitle>{escape(title)}</ArticleTitle>"
        f"<Abstract><AbstractText>{escape(abstract)}</AbstractText></Abstract>"
        '<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Tester</LastName>'
        "<ForeName>Test</ForeName><Initials>T</Initials></Author></AuthorList>"
        "<Language>eng</Language><PublicationTypeList>"
        '<PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList>'
        "</Article><MedlineJournalInfo><Country>United States</Country>"
        "<MedlineTA>J Synth Rec</MedlineTA><NlmUniqueID>000000000</NlmUniqueID>"
        "</MedlineJournalInfo></MedlineCitation>"
        "<PubmedData><History>"
        f'<PubMedPubDate PubStatus="entrez"><Year>{edat.year}</Year><Month>{edat.month}</Month>'
        f"<Day>{edat.day}</Day><Hour>0</Hour><Minute>0</Minute></PubMedPubDate>"
        f'<PubMedPubDate PubStatus="pubmed"><Year>{edat.year}</Year><Month>{edat.month}</Month>'
        f"<Day>{edat.day}</Day><Hour>0</Hour><Minute>0</Minute></PubMedPubDate>"
        "</History><PublicationStatus>epublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId>'
        f'<ArticleId IdType="doi">10.0000/synthetic.{pmid}</ArticleId>'
        "</ArticleIdList></PubmedData></PubmedArticle>"
    )
    return FakeRecord(pmid=pmid, xml=xml.encode("utf-8"), edat=edat, mdat=mdat, pdat=edat)


def malformed_record(pmid: str, *, edat: date) -> FakeRecord:
    """A record whose XML is never well-formed: an unescaped ``&`` in its title.

    NCBI has served such records; every efetch body holding one breaks at that spot.
    """
    record = synthetic_record(pmid, title="Mood AMPERSAND memory", edat=edat)
    record.xml = record.xml.replace(b"AMPERSAND", b"&")
    return record


def iter_article_pmids(efetch_body: bytes) -> Iterator[str]:
    """PMIDs of the articles in an EFetch body, in order (a helper for assertions)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(efetch_body, parser)
    for article in root.iter("PubmedArticle"):
        yield (article.findtext("MedlineCitation/PMID") or "").strip()
