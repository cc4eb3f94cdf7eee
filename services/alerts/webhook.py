"""Webhook delivery: one signed JSON POST per alert, to the address the SSRF guard checked.

The receiver verifies ``X-Livescreen-Signature`` (``sha256=`` + the hex
HMAC-SHA256 of the raw body keyed with the subscription's secret) and
de-duplicates on ``X-Livescreen-Delivery``, which stays the same across
retries of one delivery.  The standard library's ``http.client`` does the
request because it lets the socket go to the checked IP address while the
Host header and TLS name stay the URL's host, and it never follows redirects.

Neither the secret nor the URL's path or query (which often embed tokens) is
logged or put in a reason: only the origin is.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import random
import socket
import ssl
import threading
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from services.alerts.outcome import Attempt, Outcome
from services.alerts.payload import AlertPayload
from services.alerts.ssrf import (
    ResolutionError,
    Resolver,
    Target,
    UnsafeURLError,
    resolve_target,
    safe_origin,
    system_resolver,
)

log = logging.getLogger(__name__)

USER_AGENT = "livescreen-webhook/1"
SIGNATURE_HEADER = "X-Livescreen-Signature"
DELIVERY_HEADER = "X-Livescreen-Delivery"
EVENT_HEADER = "X-Livescreen-Event"
RETRY_STATUSES = {408, 425, 429}
MAX_ERROR_SNIPPET = 200


def encode_body(payload: AlertPayload) -> bytes:
    """The exact bytes that are signed and sent (compact, key-sorted UTF-8 JSON)."""
    return json.dumps(
        payload.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The ``X-Livescreen-Signature`` value for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, secret: str, header: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed IP address; ``host`` still fills the Host header."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above over TLS: the certificate is verified for ``host``, not for the IP."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds or an HTTP date) as a wait, capped at a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(timedelta(seconds=int(value)), timedelta(days=1))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    wait = when - now if when.tzinfo else None
    return min(wait, timedelta(days=1)) if wait and wait > timedelta(0) else None


def _one_line(text: str) -> str:
    """The receiver's words made safe for a log line: printable, whitespace collapsed."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    context: ssl.SSLContext | None,
) -> tuple[int, str, http.client.HTTPMessage, bytes]:
    """One POST within ``timeout`` seconds in all; returns status, reason, headers, body start.

    The socket timeout bounds each connect and read, and a watchdog cuts the
    exchange off ``timeout`` seconds after it began, so a receiver that trickles
    its answer a byte at a time cannot hold a worker either (the bound is twice
    ``timeout`` at worst, when connecting itself is what is slow).
    """
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        assert context is not None
        conn = _PinnedHTTPSConnection(target, timeout, context)
    else:
        conn = _PinnedHTTPConnection(target, timeout)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        snippet = response.read(MAX_ERROR_SNIPPET)
        if expired.is_set():  # a cut-off answer can look complete: never trust it
            raise TimeoutError
        return response.status, response.reason, response.msg, snippet
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise TimeoutError from None
        raise
    finally:
        watchdog.cancel()
        conn.close()


def deliver_webhook(
    payload: AlertPayload,
    *,
    url: str,
    secret: str,
    delivery_id: str,
    attempt: Attempt,
    timeout: float,
    allow_private: bool,
    rng: random.Random,
    resolver: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
) -> Outcome:
    """POST ``payload`` to ``url`` once and say what happened; never raises for the receiver's sake.

    2xx is delivered; 3xx fails (redirects are not followed, so one cannot
    lead to a private address); 408, 425, 429 and 5xx, timeouts, refused
    connections and unresolvable names retry with backoff (honouring
    Retry-After) until 24 hours after the first attempt; other 4xx and a
    refused URL fail at once.
    """
    origin = safe_origin(url)
    try:
        target = resolve_target(url, allow_private=allow_private, resolver=resolver)
    except UnsafeURLError as exc:
        log.warning("webhook %s refused: %s", delivery_id, exc)
        return Outcome("failed", str(exc))
    except ResolutionError as exc:
        return attempt.retry(str(exc), rng=rng)

    try:
        body = encode_body(payload)
    except (TypeError, ValueError) as exc:  # a value the outbox should not have put there
        return Outcome("failed", f"alert {payload.alert_id} cannot be sent as JSON: {exc}")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(body, secret),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: payload.event,
    }
    context = ssl_context or (ssl.create_default_context() if target.scheme == "https" else None)
    try:
        status, phrase, response_headers, snippet = _post(target, body, headers, timeout, context)
    except TimeoutError:
        reason = f"{origin} did not answer within {timeout:g} s"
        log.info("webhook %s attempt %d: %s", delivery_id, attempt.number, reason)
        return attempt.retry(reason, rng=rng)
    except (OSError, http.client.HTTPException) as exc:
        reason = f"cannot deliver to {origin}: {exc.__class__.__name__}: {exc}"
        log.info("webhook %s attempt %d: %s", delivery_id, attempt.number, reason)
        return attempt.retry(reason, rng=rng)

    log.info("webhook %s attempt %d: %s answered %d", delivery_id, attempt.number, origin, status)
    if 200 <= status < 300:
        return Outcome("delivered", f"{origin} answered HTTP {status}")
    if 300 <= status < 400:
        location = response_headers.get("Location", "")
        where = f" to {safe_origin(location)}" if location else ""
        return Outcome(
            "failed",
            f"{origin} answered HTTP {status} redirecting{where}; webhooks do not follow "
            "redirects: subscribe with the final URL",
        )
    text = _one_line(snippet.decode("utf-8", "replace"))
    reason = f"{origin} answered HTTP {status} {phrase}" + (f": {text}" if text else "")
    if status >= 500 or status in RETRY_STATUSES:
        wait = _retry_after(response_headers.get("Retry-After"), attempt.now)
        return attempt.retry(reason, rng=rng, not_before=wait)
    return Outcome("failed", reason)
