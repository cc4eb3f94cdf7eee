"""A real webhook receiver on 127.0.0.1 for the tests: verifies signatures, answers from a script.

It checks ``X-Livescreen-Signature`` with its own HMAC computation (not the
sender's helper), answers 401 when it does not match, and otherwise plays the
next scripted answer: a status code, a redirect, or a hang (no answer until the
test ends).  Every request is recorded, signature verdict included.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False


def status(code: int, **headers: str) -> Answer:
    return Answer(code, tuple((k.replace("_", "-"), v) for k, v in headers.items()))


HANG = Answer(hang=True)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


class Receiver:
    def __init__(self, secret: str, tls: ssl.SSLContext | None = None) -> None:
        self.secret = secret
        self.scheme = "https" if tls else "http"
        self.script: deque[Answer] = deque()
        self.received: list[Received] = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]

    def url(self, path: str = "/hook?token=url-token-xyz") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def answer(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                )
                given = self.headers.get("X-Livescreen-Signature", "")
                ok = hmac.compare_digest(expected, given)
                receiver.received.append(Received(self.path, dict(self.headers), body, ok))
                if not ok:
                    self._send(401)
                    return
                answer = receiver.script.popleft() if receiver.script else Answer()
                if answer.hang:
                    receiver.release.wait(30)
                    return
                self._send(answer.status, answer.headers)

            def _send(self, code: int, headers: tuple[tuple[str, str], ...] = ()) -> None:
                payload = b"" if 200 <= code < 400 else f"answer {code}".encode()
                self.send_response(code)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def running_receiver(secret: str, tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    receiver = Receiver(secret, tls)
    thread = threading.Thread(target=receiver.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(5)


@contextmanager
def trickling_receiver() -> Iterator[int]:
    """A server that starts an answer and then sends one header byte every 0.1 s, forever."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    port = int(server.getsockname()[1])

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    while not stop.wait(0.1):
                        conn.sendall(b"a")
                except OSError:
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        server.close()
