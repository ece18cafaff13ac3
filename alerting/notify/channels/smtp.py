"""E-mail over SMTP: plain, STARTTLS or SSL, login with $SENTINEL_SMTP_PASSWORD,
a timeout on every connection. One connection serves a whole drain."""

from __future__ import annotations

import smtplib
import ssl

from alerting.notify.channels.base import (
    Channel,
    DeliveryError,
    NotConfigured,
    PermanentFailure,
    register,
)
from alerting.notify.email import envelope_from


def _classify(code: int, text: str) -> DeliveryError:
    cls = PermanentFailure if 500 <= code < 600 else DeliveryError
    return cls(f"SMTP {code} {text}")


@register
class SmtpChannel(Channel):
    """The mail server from ``smtp:`` in sentinel.yaml."""

    kind = "email"

    def __init__(self, config, settings):
        super().__init__(config, settings)
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config.smtp
        if cfg is None:
            raise NotConfigured("未配置 smtp，邮件保留在发件箱中")
        try:
            if cfg.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
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
                    raise NotConfigured("smtp.username 已配置，但未设置环境变量 SENTINEL_SMTP_PASSWORD")
                conn.login(cfg.username, cfg.password)
        except smtplib.SMTPAuthenticationError as e:
            err = DeliveryError(f"SMTP 登录失败：{e.smtp_code} {_text(e.smtp_error)}")
            err.unreachable = True
            raise err from None
        except (OSError, smtplib.SMTPException) as e:
            err = DeliveryError(f"无法连接邮件服务器 {cfg.host}:{cfg.port}：{type(e).__name__}: {e}")
            err.unreachable = True
            raise err from None
        return conn

    def send(self, message) -> str | None:
        if self._conn is None:
            self._conn = self._connect()
        to = list(message.recipients or [])
        if not to:
            raise PermanentFailure("没有收件人地址（收件组为空或未配置）")
        try:
            refused = self._conn.sendmail(envelope_from(self.config.smtp.from_), to, message.body)
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
            return "部分收件地址被拒绝：" + "；".join(f"{a}: {c} {_text(t)}" for a, (c, t) in refused.items())
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


def _text(t) -> str:
    return t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
