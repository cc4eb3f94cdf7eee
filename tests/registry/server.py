"""A local stand-in for the ClinicalTrials.gov v2 ``/studies`` endpoint, for tests.

A real server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, a free port) that
speaks the parts of the API the registry client uses: ``query.term``/``query.intr``/
``query.cond`` (at least one is required, as a search needs one here), ``fields`` and
``format=json`` (required, so a client that forgets them fails), ``pageSize`` and an
opaque ``pageToken`` cursor answered with ``nextPageToken``, ``countTotal``, and
``filter.advanced`` with ``AREA[LastUpdatePostDate]RANGE[from,MAX]``, which it applies:
only studies whose last update was posted on or after ``from`` come back. Anything else
in ``filter.advanced`` is a 400, as the real API rejects what it cannot parse.

Failures are scripted: ``fail_next(status, headers)`` answers the next request(s) with
that status before serving normally again (429 with ``Retry-After``, 503, ...).
Every request's parameters are kept in ``requests`` for the tests to check.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

RANGE = re.compile(r"^AREA\[LastUpdatePostDate\]RANGE\[(\d{4}-\d{2}-\d{2}),MAX\]$")


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeRegistry:
    """The registry's studies (JSON values as the API sends them) and its scripted faults."""

    studies: list[Any] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    _failures: deque[_Failure] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------

    def fail_next(
        self, status: int, headers: dict[str, str] | None = None, *, times: int = 1
    ) -> None:
        with self._lock:
            for _ in range(times):
                body = f"Service answered {status}".encode()
                self._failures.append(_Failure(status, dict(headers or {}), body))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def replace(self, studies: Sequence[Any]) -> None:
        with self._lock:
            self.studies = list(studies)

    def start(self) -> FakeRegistry:
        handler = type("_Bound", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeRegistry is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/v2/"

    # -- serving -------------------------------------------------------------

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(params)
            if self._failures:
                failure = self._failures.popleft()
                return failure.status, failure.headers, failure.body
            studies = list(self.studies)
        if path != "/api/v2/studies":
            return 404, {}, b"Not found"
        problem = _bad_request(params)
        if problem:
            return 400, {}, problem.encode()
        since = None
        if "filter.advanced" in params:
            match = RANGE.match(params["filter.advanced"])
            if not match:
                text = f"cannot parse filter.advanced {params['filter.advanced']!r}"
                return 400, {}, text.encode()
            since = match.group(1)
        if since is not None:
            studies = [s for s in studies if _last_update(s) >= since]
        size = int(params.get("pageSize", "10"))
        start = _offset(params["pageToken"]) if "pageToken" in params else 0
        page: dict[str, Any] = {"studies": studies[start : start + size]}
        if start + size < len(studies):
            page["nextPageToken"] = _token(start + size)
        if params.get("countTotal") == "true":
            page["totalCount"] = len(studies)
        return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()


def _bad_request(params: dict[str, str]) -> str | None:
    if not any(k in params for k in ("query.term", "query.intr", "query.cond")):
        return "a search needs query.term, query.intr or query.cond"
    if params.get("format") != "json":
        return "format must be json"
    if not params.get("fields"):
        return "fields is required by this test server (keep responses small)"
    if not params.get("pageSize", "10").isdigit() or not 1 <= int(params["pageSize"]) <= 1000:
        return f"pageSize {params.get('pageSize')!r} is not 1-1000"
    return None


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    padded = token + "=" * (-len(token) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().split(":", 1)[1])


def _last_update(study: Any) -> str:
    """The study's last update date; a malformed study without one is always served."""
    try:
        value = study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    except (KeyError, TypeError):
        return "9999-12-31"
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeRegistry

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        status, headers, body = self.fake.answer(parts.path, params)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the tests read ``requests`` instead."""
