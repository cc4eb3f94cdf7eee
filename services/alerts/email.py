"""E-mail digests: one message per sweep and subscription, never one per record.

A digest lists the sweep's alerts most-likely-include first, each with its
verdicts on one line, in a plain-text part and an HTML part (every value
HTML-escaped).  "At most N records per mail" keeps the top N and says how many
more wait in the review; an empty digest is sent only when the subscription
asks for it.  Sending returns an :class:`Outcome`: a server that cannot be
reached or answers 4xx is "retry later", a 5xx refusal is "failed".
"""

from __future__ import annotations

import html
import logging
import random
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from services.alerts.outcome import Attempt, Outcome
from services.alerts.payload import EVENT_TITLES, AlertPayload, rank
from services.alerts.smtp_url import SmtpConfig

log = logging.getLogger(__name__)

SmtpFactory = Callable[[SmtpConfig, float, ssl.SSLContext], smtplib.SMTP]
"""Opens a ready (TLS negotiated, logged in) SMTP connection."""


@dataclass(frozen=True, slots=True)
class DigestOptions:
    """A subscription's digest choices."""

    max_records: int = 50
    send_when_empty: bool = False

    def __post_init__(self) -> None:
        if self.max_records < 1:
            raise ValueError(f"digest max_records must be at least 1, got {self.max_records}")


@dataclass(frozen=True, slots=True)
class DigestContext:
    """What the digest says about where it comes from."""

    review_slug: str
    review_title: str
    sweep_label: str  # e.g. the sweep's id and date, shown at the top
    review_url: str
    sender: str
    recipient: str
    sent_at: datetime
    delivery_id: str = ""  # the outbox's key: the same digest keeps the same Message-ID
    # How many alerts the digest holds when only its first (shown) ones are passed in,
    # so a sweep of 10,000 alerts does not load 10,000 records to mail 50 of them.
    total: int | None = None


def check_address(address: str, what: str) -> str:
    """The bare address of ``address``; ValueError naming ``what`` when it is not one."""
    if "\r" in address or "\n" in address:
        raise ValueError(f"{what} {address!r} contains a line break")
    _, bare = parseaddr(address)
    local, _, domain = bare.rpartition("@")
    if not local or not domain or " " in bare:
        raise ValueError(f"{what} {address!r} is not an e-mail address")
    return bare


def _p(alert: AlertPayload) -> str:
    return "n/a" if alert.p_include is None else f"{alert.p_include:.2f}"


def _source(alert: AlertPayload) -> str:
    bits = [f"PMID {alert.pmid}" if alert.pmid else "", str(alert.record.get("journal") or "")]
    year = alert.record.get("year")
    if year:
        bits.append(str(year))
    return ", ".join(b for b in bits if b)


def _headline(count: int, shown: int) -> str:
    if count == 0:
        return "No new alerts in this sweep."
    noun = "alert" if count == 1 else "alerts"
    more = f" (the first {shown} by p_include are below)" if shown < count else ""
    return f"{count} new {noun}{more}."


def render_text(alerts: Sequence[AlertPayload], total: int, ctx: DigestContext) -> str:
    lines = [f"livescreen: {ctx.review_title} -- sweep {ctx.sweep_label}", ""]
    lines.append(_headline(total, len(alerts)))
    for number, alert in enumerate(alerts, 1):
        lines += [
            "",
            f"{number}. {alert.title}",
            f"   {_source(alert)}",
            f"   {EVENT_TITLES[alert.event]}; decision {alert.decision}; p_include {_p(alert)}",
            f"   {alert.verdict_line()}",
        ]
        if alert.note:
            lines.append(f"   {alert.note}")
        lines.append(f"   {alert.record_url}")
    if total > len(alerts):
        lines += ["", f"... and {total - len(alerts)} more in the review: {ctx.review_url}"]
    lines += ["", f"Review: {ctx.review_url}", ""]
    return "\n".join(lines)


def render_html(alerts: Sequence[AlertPayload], total: int, ctx: DigestContext) -> str:
    e = html.escape
    items = []
    for alert in alerts:
        note = f"<br>{e(alert.note)}" if alert.note else ""
        items.append(
            f'<li><a href="{e(alert.record_url)}">{e(alert.title)}</a><br>'
            f"<small>{e(_source(alert))}</small><br>"
            f"{e(EVENT_TITLES[alert.event])}; decision <b>{e(alert.decision)}</b>; "
            f"p_include {e(_p(alert))}<br>"
            f'<span class="verdicts">{e(alert.verdict_line())}</span>{note}</li>'
        )
    more = ""
    if total > len(alerts):
        more = (
            f"<p>... and {total - len(alerts)} more in "
            f'<a href="{e(ctx.review_url)}">the review</a>.</p>'
        )
    listing = f"<ol>{''.join(items)}</ol>" if items else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{e(ctx.review_title)}</title></head><body>"
        f"<h1>{e(ctx.review_title)}</h1><p>Sweep {e(ctx.sweep_label)}. "
        f"{e(_headline(total, len(alerts)))}</p>{listing}{more}"
        f'<p><a href="{e(ctx.review_url)}">Open the review</a></p></body></html>'
    )


def build_digest(
    alerts: Sequence[AlertPayload], *, ctx: DigestContext, options: DigestOptions
) -> EmailMessage | None:
    """The digest message, or None when there is nothing to say and empty digests are off.

    Raises ValueError naming the sender or recipient when either is not an address.
    """
    sender = check_address(ctx.sender, "sender")
    check_address(ctx.recipient, "recipient")
    if not alerts and not options.send_when_empty:
        return None
    ranked = rank(list(alerts))
    shown = ranked[: options.max_records]
    count = max(len(ranked), ctx.total or 0)
    message = EmailMessage()
    subject_count = "no new alerts" if count == 0 else f"{count} new alert{'s' * (count != 1)}"
    message["Subject"] = f"[livescreen] {ctx.review_title}: {subject_count}"
    message["From"] = ctx.sender
    message["To"] = ctx.recipient
    message["Date"] = format_datetime(ctx.sent_at)
    message["Message-ID"] = _message_id(ctx.delivery_id, sender.rpartition("@")[2])
    message["X-Livescreen-Review"] = ctx.review_slug
    message.set_content(render_text(shown, count, ctx))
    message.add_alternative(render_html(shown, count, ctx), subtype="html")
    return message


def _message_id(delivery_id: str, domain: str) -> str:
    """A Message-ID stable per delivery, so a digest re-sent after a crash is the same mail."""
    if not delivery_id:
        return make_msgid("livescreen-digest", domain=domain)
    safe = "".join(c if c.isalnum() or c in "-._" else "-" for c in delivery_id)
    return f"<livescreen-digest-{safe}@{domain}>"


def open_smtp(config: SmtpConfig, timeout: float, context: ssl.SSLContext) -> smtplib.SMTP:
    """Connect as the URL says: implicit TLS or STARTTLS, then log in when a user is given."""
    smtp: smtplib.SMTP
    if config.implicit_tls:
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
    try:
        if config.starttls:
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_digest(
    message: EmailMessage,
    *,
    config: SmtpConfig,
    attempt: Attempt,
    timeout: float,
    rng: random.Random,
    connect: SmtpFactory = open_smtp,
    ssl_context: ssl.SSLContext | None = None,
) -> Outcome:
    """Hand ``message`` to the SMTP server once; transient failures come back as ``retry``."""
    server = config.display
    try:
        smtp = connect(config, timeout, ssl_context or ssl.create_default_context())
        try:
            refused = smtp.send_message(message)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except smtplib.SMTPAuthenticationError as exc:
        return Outcome("failed", f"{server} rejected the login: {exc.smtp_code} {_text(exc)}")
    except smtplib.SMTPRecipientsRefused as exc:
        refusals = "; ".join(
            f"{who}: {code} {_decode(text)}" for who, (code, text) in exc.recipients.items()
        )
        reason = f"{server} refused the recipient ({refusals})"
        if all(code < 500 for code, _ in exc.recipients.values()):
            return attempt.retry(reason, rng=rng)
        return Outcome("failed", reason)
    except smtplib.SMTPNotSupportedError as exc:
        return Outcome("failed", f"{server} does not support what the URL asks for: {exc}")
    except smtplib.SMTPResponseException as exc:
        reason = f"{server} answered {exc.smtp_code} {_text(exc)}"
        if exc.smtp_code >= 500:
            return Outcome("failed", reason)
        return attempt.retry(reason, rng=rng)
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"cannot reach {server}: {exc.__class__.__name__}: {exc}"
        log.info("digest to %s attempt %d: %s", message["To"], attempt.number, reason)
        return attempt.retry(reason, rng=rng)
    if refused:
        return Outcome("failed", f"{server} refused some recipients: {refused}")
    log.info("digest to %s sent via %s", message["To"], server)
    return Outcome("delivered", f"accepted by {server}")


def _text(exc: smtplib.SMTPResponseException) -> str:
    return _decode(exc.smtp_error)


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def deliver_digest(
    alerts: Sequence[AlertPayload],
    *,
    ctx: DigestContext,
    options: DigestOptions,
    config: SmtpConfig,
    attempt: Attempt,
    timeout: float,
    rng: random.Random,
    connect: SmtpFactory = open_smtp,
    ssl_context: ssl.SSLContext | None = None,
) -> Outcome:
    """Build and send one digest: ``skipped`` when empty and not wanted, ``failed`` on bad input."""
    try:
        message = build_digest(alerts, ctx=ctx, options=options)
    except ValueError as exc:
        return Outcome("failed", f"cannot build the digest: {exc}")
    if message is None:
        return Outcome("skipped", "no new alerts and empty digests are off")
    return send_digest(
        message,
        config=config,
        attempt=attempt,
        timeout=timeout,
        rng=rng,
        connect=connect,
        ssl_context=ssl_context,
    )
