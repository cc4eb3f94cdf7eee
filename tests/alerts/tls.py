"""Throwaway TLS material for local servers: a self-signed certificate made by openssl."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

TLS_HOST = "hooks.example.test"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate valid for 127.0.0.1 and TLS_HOST, and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", f"subjectAltName=IP:127.0.0.1,DNS:{TLS_HOST}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts only the throwaway certificate."""
    return ssl.create_default_context(cafile=str(certificate[0]))
