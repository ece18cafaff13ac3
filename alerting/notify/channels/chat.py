"""Chat webhooks (DingTalk, WeCom, Feishu, and every other service Apprise knows),
configured as Apprise URLs per recipient group under ``notify.channels``.

Each webhook of a message's groups gets its own stored copy, JSON ``{"title", "body",
"url_index"}`` rendered once, so a failing webhook is retried without repeating the
others. The URLs are looked up at send time, so tokens stay in the config (or the
environment), never in the database.
"""

from __future__ import annotations

import json
import os
import re

from pydantic import Field, RootModel

from alerting.notify.channels.base import Channel, Delivery, DeliveryError, Draft, NotConfigured
from crawler.deadline import Deadline

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ChatWebhooks(RootModel[dict[str, list[str]]]):
    """Chat webhooks (Apprise URLs, ``${ENV}`` allowed for tokens) per recipient group,
    e.g. ``office: ['dingtalk://${DINGTALK_TOKEN}/']``."""

    root: dict[str, list[str]] = Field(
        default_factory=dict, description="Apprise URLs by recipient group (office, leaders …)."
    )

    def get(self, group: str, default: list[str] | None = None) -> list[str] | None:
        """The webhooks of ``group``."""
        return self.root.get(group, default)


def expand(url: str) -> str:
    """``${NAME}`` replaced by the environment variable (tokens stay out of YAML)."""

    def sub(m: re.Match) -> str:
        if m.group(1) not in os.environ:
            raise NotConfigured(f"环境变量 {m.group(1)} 未设置（聊天机器人地址中引用）")
        return os.environ[m.group(1)]

    return _ENV.sub(sub, url)


class ChatChannel(Channel):
    """One stored message to one webhook of its recipient group, through Apprise."""

    kind = "chat"
    label = "群消息"
    config_model = ChatWebhooks
    section = "channels"

    @classmethod
    def deliveries(cls, config, draft: Draft) -> list[Delivery]:
        """One copy per webhook of each of the message's groups. A webhook of one
        person's own (keyed by their address) gets their personal text, with their
        one-tap link; a group chat never gets a link signed for one of its members."""
        hooks = cls.settings_of(config)
        own = {p.address.lower(): p.text for p in draft.personal}
        out = []
        for group in draft.groups:
            text = own.get(group.lower(), draft.text)
            for i, _url in enumerate((hooks.get(group) if hooks else None) or []):
                payload = {"title": draft.subject, "body": text, "url_index": i}
                body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                out.append(Delivery(recipients=[group], body=body, suffix=f"chat:{group}:{i}"))
        return out

    def send(self, message) -> str | None:
        import apprise

        payload = json.loads(message.body.decode("utf-8"))
        groups = list(message.recipients or [])
        urls = [u for g in groups for u in (self.settings.get(g) or [])] if self.settings else []
        index = payload.get("url_index")
        if index is not None:
            # One message per webhook, so a retry never repeats a webhook that worked.
            urls = urls[index : index + 1]
        if not urls:
            raise NotConfigured(f"收件组 {', '.join(groups)} 未配置聊天机器人地址")
        urls = [expand(u) for u in urls]
        failed = []
        from alerting.notify.settings import settings_of

        limit = float(settings_of(self.config).webhook_timeout)
        for url in urls:
            # Inline in this thread, so our deadline reaches its sockets. Apprise's own
            # service_timeout only stops waiting for a worker thread, which then keeps
            # the connection for as long as the server trickles.
            ap = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False, service_timeout=0))
            if not ap.add(url):
                failed.append(_redact(url) + "（地址无效）")
                continue
            with Deadline(limit) as deadline:
                ok = ap.notify(
                    title=payload["title"],
                    body=payload["body"],
                    body_format=apprise.NotifyFormat.TEXT,
                )
            if deadline.expired:
                failed.append(_redact(url) + f"（{limit:g} 秒内未完成）")
            elif not ok:
                failed.append(_redact(url))
        if failed:
            # Apprise does not tell a refused token from a network error: retry with backoff.
            raise DeliveryError("聊天机器人发送失败：" + "，".join(failed))
        return None


def _redact(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://…" if rest else url
