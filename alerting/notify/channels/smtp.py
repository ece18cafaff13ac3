"""E-mail over SMTP: plain, STARTTLS or SSL, login with $SENTINEL_SMTP_PASSWORD.
Connecting (with the login) and sending one message each end within ``smtp.timeout``,
whatever the server does (smtplib's own timeout is per socket operation). The password
never goes out over an unencrypted connection unless ``allow_plaintext_auth`` says so.
One connection serves a whole drain.

Its settings are the top-level ``smtp:`` of sentinel.yaml. Every message has an e-mail
copy, even without ``smtp:``: it waits in the outbox until a server is configured.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerting.notify import email as mail
from alerting.notify.channels.base import (
    Channel,
    Delivery,
    DeliveryError,
    Draft,
    NotConfigured,
    PermanentFailure,
)
from core.durations import Duration
from crawler.deadline import Deadline

PLAINTEXT_REFUSED = (
    "拒绝登录邮件服务器：smtp.security 为 none，密码会以明文经网络发送；请改用 starttls 或 ssl，"
    "确需明文登录时在 smtp 中设置 allow_plaintext_auth: true"
)


def smtp_warnings(cfg) -> list[str]:
    """What ``sentinel config check`` should say about the ``smtp:`` section."""
    if cfg is None or not cfg.username or cfg.security != "none":
        return []
    if getattr(cfg, "allow_plaintext_auth", False):
        return [
            "警告：smtp.security 为 none 且设置了 allow_plaintext_auth，密码将以明文经网络发送。"
        ]
    return [
        (
            "警告：smtp 配置了 username 但 security 为 none：为保护密码，系统将拒绝登录，邮件会留在发件箱中；"
            "请改用 starttls 或 ssl（确需明文登录时设置 allow_plaintext_auth: true）。"
        )
    ]


class PlaintextAuthRefused(NotConfigured):
    """A login over plain TCP that the config does not allow: the mail waits."""


class SmtpConfig(BaseModel):
    """The mail server alerts and digests go through."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str = Field(description="SMTP server host name.")
    port: int = Field(
        25, ge=1, le=65535, description="SMTP port (25, 465 for ssl, 587 for starttls)."
    )
    security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="none, starttls or ssl."
    )
    username: str | None = Field(
        None, description="Login name; the password is $SENTINEL_SMTP_PASSWORD."
    )
    allow_plaintext_auth: bool = Field(
        False,
        description="Allow the login (and so the password) over an unencrypted connection (security: none).",
    )
    from_: str = Field(alias="from", description='Sender, e.g. "舆情监测 <yuqing@example.edu.cn>".')
    timeout: Duration = Field(
        30,
        description="Longest the connection (with the login) or the sending of one message may take.",
    )

    @property
    def password(self) -> str | None:
        return os.environ.get("SENTINEL_SMTP_PASSWORD") or None


def _classify(code: int, text: str) -> DeliveryError:
    cls = PermanentFailure if 500 <= code < 600 else DeliveryError
    return cls(f"SMTP {code} {text}")


class SmtpChannel(Channel):
    """The mail server from ``smtp:`` in sentinel.yaml."""

    kind = "email"
    label = "邮件"
    config_model = SmtpConfig
    section = None  # the top-level smtp: of sentinel.yaml, where it always was

    def __init__(self, config, settings: SmtpConfig | None):
        super().__init__(config, settings)
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def settings_of(cls, config) -> SmtpConfig | None:
        return getattr(config, "smtp", None)

    @classmethod
    def deliveries(cls, config, draft: Draft) -> list[Delivery]:
        """One mail to every address of the message's groups, as MIME bytes built once;
        a person with a personal copy (their own one-tap link) gets it as a mail of
        their own, so nobody receives a link signed for someone else."""
        smtp = cls.settings_of(config)
        to = config.addresses(list(draft.groups))
        own = {p.address: p for p in draft.personal if p.address in to}
        shared = [a for a in to if a not in own]
        headers = {"X-Sentinel-Kind": draft.kind}
        if draft.incident_id is not None:
            headers["X-Sentinel-Incident"] = str(draft.incident_id)

        def build(recipients, html, text, suffix) -> Delivery:
            message_id, thread = draft.message_id, list(draft.thread)
            if suffix:  # its own Message-ID (the outbox keys the copy key#suffix), same thread
                message_id = mail.message_id_for(f"{draft.key}#{suffix}", mail.id_domain(config))
                thread = thread or [draft.message_id]
            body = mail.build(
                from_=smtp.from_ if smtp else None,
                to=recipients,
                subject=draft.subject,
                html=html,
                text=text,
                message_id=message_id,
                date=draft.date,
                thread=thread or None,
                extra_headers=headers,
            )
            return Delivery(recipients=recipients, body=body, suffix=suffix)

        out = [build(shared, draft.html, draft.text, "")] if shared or not own else []
        for p in own.values():
            out.append(build([p.address], p.html, p.text, "" if not out else f"to:{p.address}"))
        return out

    def _connect(self) -> smtplib.SMTP:
        cfg = self.settings
        if cfg is None:
            raise NotConfigured("未配置 smtp，邮件保留在发件箱中")
        if (
            cfg.username
            and cfg.security == "none"
            and not getattr(cfg, "allow_plaintext_auth", False)
        ):
            raise PlaintextAuthRefused(PLAINTEXT_REFUSED)  # before connecting: nothing goes out
        late = f"连接邮件服务器 {cfg.host}:{cfg.port} 在 {cfg.timeout:g} 秒内未完成"
        with Deadline(cfg.timeout) as deadline:
            try:
                conn = self._open(cfg)
            except DeliveryError as e:
                if deadline.expired:
                    e.args = (late,)
                raise
        if deadline.expired:  # smtplib may take a reply cut short by the deadline for a whole one
            _close(conn)
            err = DeliveryError(late)
            err.unreachable = True
            raise err
        return conn

    def _open(self, cfg) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = None
        try:
            if cfg.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
                if cfg.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
                    conn.ehlo()
            if cfg.username:
                if not cfg.password:
                    conn.close()
                    raise NotConfigured(
                        "smtp.username 已配置，但未设置环境变量 SENTINEL_SMTP_PASSWORD"
                    )
                conn.login(cfg.username, cfg.password)
        except smtplib.SMTPAuthenticationError as e:
            _close(conn)
            err = DeliveryError(f"SMTP 登录失败：{e.smtp_code} {_text(e.smtp_error)}")
            err.unreachable = True
            raise err from None
        except (OSError, smtplib.SMTPException) as e:
            _close(conn)
            err = DeliveryError(
                f"无法连接邮件服务器 {cfg.host}:{cfg.port}：{type(e).__name__}: {e}"
            )
            err.unreachable = True
            raise err from None
        return conn

    def send(self, message) -> str | None:
        if self._conn is None:
            self._conn = self._connect()
        to = list(message.recipients or [])
        if not to:
            raise PermanentFailure("没有收件人地址（收件组为空或未配置）")
        limit = self.config.smtp.timeout
        late = f"发送一封邮件在 {limit:g} 秒内未完成，稍后重试"
        with Deadline(limit) as deadline:
            deadline.watch(self._conn.sock)
            try:
                note = self._send(message, to)
            except DeliveryError as e:
                if deadline.expired:
                    e.args = (late,)
                raise
        if (
            deadline.expired
        ):  # accepted (250) just before the cut: sent; only the connection is gone
            self._reset()
        return note

    def _send(self, message, to: list[str]) -> str | None:
        try:
            refused = self._conn.sendmail(mail.envelope_from(self.settings.from_), to, message.body)
        except smtplib.SMTPRecipientsRefused as e:
            self._reset()
            codes = [c for c, _ in e.recipients.values()]
            detail = "；".join(f"{a}: {c} {_text(t)}" for a, (c, t) in e.recipients.items())
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"收件地址被拒绝：{detail}") from None
            raise DeliveryError(f"收件地址暂时被拒绝：{detail}") from None
        except smtplib.SMTPSenderRefused as e:
            self._reset()
            raise _classify(e.smtp_code, _text(e.smtp_error)) from None
        except smtplib.SMTPResponseException as e:
            self._reset()
            raise _classify(e.smtp_code, _text(e.smtp_error)) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as e:
            self._reset()
            raise DeliveryError(f"发送中断：{type(e).__name__}: {e}") from None
        if refused:
            # Accepted for some recipients: it is sent; the refused ones are recorded.
            return "部分收件地址被拒绝：" + "；".join(
                f"{a}: {c} {_text(t)}" for a, (c, t) in refused.items()
            )
        return None

    def _reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                try:
                    conn.close()
                except Exception:
                    pass


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass


def _text(t) -> str:
    return t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
