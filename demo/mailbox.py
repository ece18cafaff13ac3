"""``Mailbox``: a local SMTP server (aiosmtpd) that files every message as a ``.eml``.

Each accepted message is written unchanged (the bytes received after DATA) to
``directory/<arrival-ns>-<seq>.eml``; file names sort by arrival. It can be made
hostile for tests: refuse given recipients with 550, answer 451 to the next N
messages, be stopped and started again on the same port, require AUTH (LOGIN/PLAIN)
and offer STARTTLS or implicit TLS with a self-signed certificate made at start
(``cryptography``).

    with Mailbox(Path("var/mail")) as box:
        ...  # send to 127.0.0.1:box.port
        for msg in box.messages():
            print(msg["Subject"])
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Delivery:
    """One accepted message: the envelope (which a .eml file does not keep) and its file."""

    mail_from: str
    rcpt_tos: list[str]
    path: Path
    received_at: float = field(default_factory=time.time)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, box: Mailbox):
        self.box = box

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.box.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.box.refuse_recipients:
            return "550 5.1.1 Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.box._lock:
            if self.box._tempfail > 0:
                self.box._tempfail -= 1
                return "451 4.3.0 Temporary failure, try again later"
        raw = (
            envelope.original_content if envelope.original_content is not None else envelope.content
        )
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        path = self.box._store(raw)
        with self.box._lock:
            self.box.deliveries.append(Delivery(envelope.mail_from, list(envelope.rcpt_tos), path))
        return "250 2.0.0 Message accepted for delivery"


class Mailbox:
    """A real SMTP server on 127.0.0.1 storing each message under ``directory``."""

    def __init__(
        self,
        directory: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        refuse_recipients: Iterable[str] = (),
        username: str | None = None,
        password: str | None = None,
        tls: str | None = None,
    ):
        if tls not in (None, "starttls", "ssl"):
            raise ValueError("tls must be None, 'starttls' or 'ssl'")
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.directory = Path(directory)
        self.host = host
        self._port = port
        self.refuse_recipients = {a.lower() for a in refuse_recipients}
        self.username = username
        self.password = password
        self.tls = tls
        self.deliveries: list[Delivery] = []
        self.auth_attempts: list[tuple[str, bool]] = []  # (login, success)
        self._controller: Controller | None = None
        self._lock = threading.Lock()
        self._seq = 0
        self._tempfail = 0
        self._tls_dir: tempfile.TemporaryDirectory | None = None
        self.cert_file: Path | None = None  # PEM of the self-signed certificate (tls set)

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> Self:
        if self._controller is not None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self._port:
            self._port = free_port(self.host)
        kwargs: dict = {
            "hostname": self.host,
            "port": self._port,
            "ready_timeout": 10.0,
            "server_hostname": "mail.jxpc.example.edu.cn",
        }
        kwargs["ident"] = "sentinel-demo-mailbox"
        if self.tls:
            context = self._tls_context()
            if self.tls == "starttls":
                kwargs["tls_context"] = context
                kwargs["require_starttls"] = False
            else:
                kwargs["ssl_context"] = context
        if self.username is not None:
            kwargs["authenticator"] = self._authenticate
            # "AUTH required" is enforced in handle_MAIL: aiosmtpd's own auth_required
            # warns on every connection when TLS is not required as well.
            kwargs["auth_require_tls"] = self.tls == "starttls"
        controller = Controller(_Handler(self), **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; ``start()`` listens again on the same port."""
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    def close(self) -> None:
        """Stop and remove the temporary certificate."""
        self.stop()
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = None
            self.cert_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the mailbox is not started")
        return self._port

    # -- hostility ----------------------------------------------------------------
    def tempfail_next(self, n: int = 1) -> None:
        """Answer ``451`` to the next ``n`` messages (after RCPT, at DATA)."""
        with self._lock:
            self._tempfail = n

    # -- reading ------------------------------------------------------------------
    def files(self) -> list[Path]:
        """The stored .eml files in arrival order."""
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        """The stored messages in arrival order, parsed with ``email.policy.default``."""
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(p.read_bytes()) for p in self.files()]  # type: ignore[misc]

    def clear(self) -> None:
        for p in self.files():
            p.unlink()
        with self._lock:
            self.deliveries.clear()

    # -- internals ----------------------------------------------------------------
    def _store(self, raw: bytes) -> Path:
        with self._lock:
            self._seq += 1
            name = f"{time.time_ns():020d}-{self._seq:06d}.eml"
        tmp = self.directory / (name + ".part")
        tmp.write_bytes(raw)
        final = self.directory / name
        os.replace(tmp, final)
        return final

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = (
            login == self.username
            and auth_data.password.decode("utf-8", "replace") == self.password
        )
        with self._lock:
            self.auth_attempts.append((login, ok))
        return AuthResult(success=ok, handled=False)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls_dir is None:
            self._tls_dir = tempfile.TemporaryDirectory(prefix="sentinel-mailbox-")
            cert, key = _self_signed(self.host)
            d = Path(self._tls_dir.name)
            (d / "cert.pem").write_bytes(cert)
            (d / "key.pem").write_bytes(key)
            self.cert_file = d / "cert.pem"
        d = Path(self._tls_dir.name)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(d / "cert.pem", d / "key.pem")
        return context

    def client_context(self) -> ssl.SSLContext:
        """An SSL context for clients that trusts this mailbox's certificate."""
        if self.cert_file is None:
            raise RuntimeError("the mailbox has no TLS")
        return ssl.create_default_context(cafile=str(self.cert_file))


def _self_signed(host: str) -> tuple[bytes, bytes]:
    """A fresh self-signed certificate for ``host``, localhost and 127.0.0.1 (PEM cert, PEM key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sentinel demo mailbox")])
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt.append(x509.DNSName(host))
    if host != "127.0.0.1":
        alt.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert_pem, key_pem
