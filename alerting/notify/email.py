"""Building e-mails: clean headers, HTML + plain text, fixed Message-ID, threading.

A message is built once, as bytes, and those bytes are what the outbox stores and sends;
nothing here is called again on retry.
"""

from __future__ import annotations

import email.policy
import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr

from alerting.compose.text import clean_line

DEFAULT_FROM = "舆情监测 <sentinel@localhost>"


def sender(from_: str | None) -> tuple[str, str]:
    """(header value, envelope address) of the configured sender."""
    value = from_ or DEFAULT_FROM
    _name, addr = parseaddr(value)
    return value, addr or "sentinel@localhost"


def mail_domain(from_: str | None) -> str:
    _, addr = sender(from_)
    return addr.rpartition("@")[2] or "localhost"


def id_domain(config) -> str:
    """The domain of every Message-ID, whatever the channel: the sender's (``smtp.from``),
    ``localhost`` without ``smtp``."""
    smtp = getattr(config, "smtp", None)
    return mail_domain(smtp.from_ if smtp else None)


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID fixed by the idempotency key: the same message always has the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return f"<sentinel.{digest}@{domain}>"


def thread_id_for(incident_id: int, domain: str) -> str:
    """The Message-ID of an incident's first alert; every later mail refers to it."""
    return f"<sentinel.incident-{incident_id}@{domain}>"


def build(
    *,
    from_: str | None,
    to: list[str],
    subject: str,
    html: str,
    text: str,
    message_id: str,
    date: datetime,
    thread: list[str] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """The message as bytes, ready for SMTP (CRLF line ends, RFC 2047 headers, UTF-8)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    header_from, _ = sender(from_)
    msg["From"] = _address_header(header_from)
    msg["To"] = ", ".join(_address_header(a) for a in to) if to else "undisclosed-recipients:;"
    msg["Subject"] = clean_line(subject, 200)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if thread:
        msg["In-Reply-To"] = thread[-1]
        msg["References"] = " ".join(thread)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    for k, v in (extra_headers or {}).items():
        msg[k] = clean_line(v, 200)
    # base64 keeps the message 7-bit clean for any relay (no 8BITMIME needed).
    msg.set_content(text, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg.as_bytes(policy=email.policy.SMTP)


def _address_header(value: str) -> str:
    """An address with its display name cleaned; the policy encodes it (RFC 2047)."""
    pairs = getaddresses([value])
    if not pairs or not pairs[0][1]:
        return clean_line(value, 200)
    name, addr = pairs[0]
    name = clean_line(name, 60)
    if not name:
        return addr
    user, _, domain = addr.rpartition("@")
    return str(Address(display_name=name, username=user, domain=domain))


def envelope_from(from_: str | None) -> str:
    return sender(from_)[1]
