"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, optionally TLS and with a login."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.alerts.conftest import free_port
from tests.alerts.tls import server_context

USER, PASSWORD = "alerts", "s3cret-smtp"


@dataclass
class Inbox:
    """What the server accepted; ``rcpt_answer`` scripts a refusal of every recipient."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    rcpt_answer: str | None = None

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(
    *, tls: str = "", certificate: tuple[Path, Path] | None = None, login: bool = False
) -> Iterator[tuple[Inbox, int]]:
    """Run a server; ``tls`` is "" (plain), "starttls" or "implicit"."""
    inbox = Inbox()
    kwargs: dict[str, Any] = {}
    if tls:
        assert certificate is not None
        context = server_context(certificate)
        kwargs["ssl_context" if tls == "implicit" else "tls_context"] = context
        if tls == "starttls":
            kwargs["require_starttls"] = True
    if login:
        kwargs.update(authenticator=check_login, auth_required=True)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
