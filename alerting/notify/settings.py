"""Settings of notifications, read from ``sentinel.yaml`` under ``notify:``.

Every field has a default, so a config without the section behaves as documented in
``docs/notifications.md``. A channel installed as a plug-in keeps its settings under
``notify.<its kind>``, validated by the channel's own config model.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerting.notify.channels.chat import ChatWebhooks
from core.durations import Duration, DurationOrZero
from core.vocabulary import CategoryKey as Category
from core.vocabulary import SeverityKey as Severity


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Route(_Strict):
    """Who is told about an incident with this severity, category or unit. Every route
    that fits adds its groups; with no fitting route the default groups are told."""

    severity: list[Severity] = Field(
        default_factory=lambda: ["I", "II", "III", "IV"],
        description="Severities this route covers.",
    )
    category: list[Category] = Field(
        default_factory=lambda: ["inquiry", "hype", "illegal", "constructive"],
        description="Handling categories this route covers.",
    )
    unit: list[str] = Field(
        default_factory=list,
        description="Units (department names as the watchlist names them, or the assignee's unit); empty: any.",
    )
    to: list[str] = Field(description="Recipient groups or addresses told.")


class QuietHours(_Strict):
    """A nightly window in which alerts of low severity wait until it ends."""

    start: str = Field("22:00", description="Start of the quiet window, local time HH:MM.")
    end: str = Field("07:30", description="End of the quiet window, local time HH:MM.")
    severities: list[Severity] = Field(
        default_factory=lambda: ["III", "IV"],
        description="Severities held back (Ⅰ and Ⅱ always go through).",
    )

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(v).strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"'{v}' is not a time of day; write HH:MM, e.g. 22:00")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    @field_validator("severities")
    @classmethod
    def _never_high(cls, v: list[str]) -> list[str]:
        high = [s for s in v if s in ("I", "II")]
        if high:
            raise ValueError(
                "severities I and II always go through; quiet hours take only III and IV"
            )
        return v


class NotifySettings(BaseModel):
    """The ``notify:`` section of sentinel.yaml."""

    # Keys that are not fields are plug-in channels' sections, checked in _channels.
    model_config = ConfigDict(extra="allow")

    group_window: DurationOrZero = Field(
        300,
        description="Posts that join an incident after its first alert are gathered for this long "
        "and go out together as one follow-up mail (30s, 5m, 1h).",
    )
    repeat_interval: DurationOrZero = Field(
        4 * 3600, description="A reminder about the same thing is sent at most this often."
    )
    retry_base: DurationOrZero = Field(
        30, description="Wait before the first retry; it doubles on each failure."
    )
    retry_max: DurationOrZero = Field(3600, description="Longest wait between two retries.")
    give_up_after: DurationOrZero = Field(
        3 * 86400,
        description="A message still failing this long after it was queued is marked failed.",
    )
    send_lease: DurationOrZero = Field(
        300,
        description="A message left 'sending' by a crashed process is sent again (same Message-ID) after this.",
    )
    default_to: list[str] = Field(
        default_factory=lambda: ["office"], description="Groups told when no route fits."
    )
    routes: list[Route] = Field(
        default_factory=list, description="Recipients by severity, category and unit."
    )
    quiet_hours: QuietHours | None = Field(
        None, description="Hold back Ⅲ–Ⅳ alerts at night; off unless set."
    )
    mask_alerts: bool = Field(False, description="Mask phone, ID-card and e-mail in alert mails.")
    mask_digests: bool = Field(True, description="Mask phone, ID-card and e-mail in digests.")
    max_posts_per_mail: int = Field(
        20, ge=1, description="Posts listed in one mail; the rest are counted."
    )
    channels: ChatWebhooks = Field(
        default_factory=ChatWebhooks,
        description="Chat webhooks (Apprise URLs, ${ENV} allowed for tokens) per recipient group, "
        "e.g. office: ['dingtalk://${DINGTALK_TOKEN}/'].",
    )
    link_valid_for: Duration = Field(
        24 * 3600,
        description="How long a one-tap link in a mail ({console_url}/ack/…, /approve/…) may be "
        "used; each link works once.",
    )
    webhook_timeout: Duration = Field(
        30, description="Longest one chat webhook call may take, from the connect to the last byte."
    )

    @model_validator(mode="after")
    def _channels(self) -> NotifySettings:
        """Every other key names an installed channel whose settings live here, and is
        validated by that channel's config model."""
        extra: dict[str, Any] = self.model_extra or {}
        if not extra:
            return self
        from alerting.notify.channels.registry import channel_types

        sections = {
            c.section or c.kind: c for c in channel_types().values() if c.section is not None
        }
        for key, value in list(extra.items()):
            channel = sections.get(key)
            if channel is None or key in type(self).model_fields:
                plugins = sorted(k for k in sections if k not in type(self).model_fields)
                raise ValueError(
                    f"没有 {key} 这个设置；notify 下可用的键：{'、'.join(type(self).model_fields)}"
                    + (f"；已安装渠道的设置：{'、'.join(plugins)}" if plugins else "")
                )
            try:
                extra[key] = channel.config_model.model_validate(value)
            except ValidationError as e:
                first = e.errors()[0]
                where = ".".join(str(x) for x in (key, *first["loc"]))
                raise ValueError(
                    f"notify.{where}：{first['msg']}（共 {e.error_count()} 处错误）"
                ) from None
        return self


def settings_of(config) -> NotifySettings:
    """The notify settings of a config: its ``notify`` (validated when it is a plain
    dict), or the defaults when it has none."""
    s = getattr(config, "notify", None)
    if isinstance(s, NotifySettings):
        return s
    if isinstance(s, dict):
        return NotifySettings.model_validate(s)
    return NotifySettings()
