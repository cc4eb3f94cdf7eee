"""``LIVESCREEN_SMTP_URL``: where e-mail digests go, as one URL.

``smtp://user:pass@host:587?starttls=1`` (plain SMTP, upgraded with STARTTLS)
or ``smtps://user:pass@host:465`` (TLS from the first byte).  User name and
password are percent-decoded, so ``%40`` stands for ``@``.  Errors name the
setting and the problem and never repeat the password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
SETTING = "LIVESCREEN_SMTP_URL"


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def display(self) -> str:
        """The server as it is safe to show: no password."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse and check an SMTP URL; raises ValueError naming the setting and the problem."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{SETTING} is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"{scheme}://" if scheme else repr(url.strip()[:20])
        raise ValueError(f"{SETTING} must start with smtp:// or smtps://, not {shown}")
    if not parts.hostname:
        raise ValueError(f"{SETTING} has no host (expected e.g. smtp://mail.example.org:587)")
    if parts.path not in ("", "/"):
        raise ValueError(f"{SETTING} must not have a path, got {parts.path!r}")
    starttls = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls":
            raise ValueError(f"{SETTING} has an unknown option {key!r} (known: starttls)")
        if value.lower() in TRUE:
            starttls = True
        elif value.lower() in FALSE:
            starttls = False
        else:
            raise ValueError(f"{SETTING}: starttls must be 1 or 0, got {value!r}")
    if scheme == "smtps" and starttls:
        raise ValueError(
            f"{SETTING}: starttls=1 does not apply to smtps:// (already TLS); "
            "use smtp://...?starttls=1 or smtps:// alone"
        )
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ValueError(f"{SETTING} has a password but no user name")
    return SmtpConfig(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        implicit_tls=scheme == "smtps",
        starttls=starttls,
        username=username,
        password=password,
    )
