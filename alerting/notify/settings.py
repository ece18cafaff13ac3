"""Settings of notifications, read from ``sentinel.yaml`` under ``notify:``.

Every field has a default, so a config without the section behaves as documented in
``docs/notifications.md``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crawler.base import parse_duration

Severity = Literal["I", "II", "III", "IV"]
Category = Literal["inquiry", "hype", "illegal", "constructive"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Route(_Strict):
    """Who is told about an incident with this severity, category or unit. Every route
    that fits adds its groups; with no fitting route the default groups are told."""

    severity: list[Severity] = Field(
        default_factory=lambda: ["I", "II", "III", "IV"], description="Severities this route covers."
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
            raise ValueError("severities I and II always go through; quiet hours take only III and IV")
        return v


class NotifySettings(_Strict):
    """The ``notify:`` section of sentinel.yaml."""

    group_window: float = Field(
        300,
        description="Posts that join an incident after its first alert are gathered for this long "
        "and go out together as one follow-up mail (30s, 5m, 1h).",
    )
    repeat_interval: float = Field(
        4 * 3600, description="A reminder about the same thing is sent at most this often."
    )
    retry_base: float = Field(30, description="Wait before the first retry; it doubles on each failure.")
    retry_max: float = Field(3600, description="Longest wait between two retries.")
    give_up_after: float = Field(
        3 * 86400, description="A message still failing this long after it was queued is marked failed."
    )
    send_lease: float = Field(
        300,
        description="A message left 'sending' by a crashed process is sent again (same Message-ID) after this.",
    )
    default_to: list[str] = Field(
        default_factory=lambda: ["office"], description="Groups told when no route fits."
    )
    routes: list[Route] = Field(default_factory=list, description="Recipients by severity, category and unit.")
    quiet_hours: QuietHours | None = Field(
        None, description="Hold back Ⅲ–Ⅳ alerts at night; off unless set."
    )
    mask_alerts: bool = Field(False, description="Mask phone, ID-card and e-mail in alert mails.")
    mask_digests: bool = Field(True, description="Mask phone, ID-card and e-mail in digests.")
    max_posts_per_mail: int = Field(20, ge=1, description="Posts listed in one mail; the rest are counted.")
    channels: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Chat webhooks (Apprise URLs, ${ENV} allowed for tokens) per recipient group, "
        "e.g. office: ['dingtalk://${DINGTALK_TOKEN}/'].",
    )
    webhook_timeout: float = Field(
        30, description="Longest one chat webhook call may take, from the connect to the last byte."
    )

    @field_validator(
        "group_window", "repeat_interval", "retry_base", "retry_max", "give_up_after", "send_lease",
        "webhook_timeout", mode="before",
    )
    @classmethod
    def _d(cls, v):
        if v in (0, "0", "0s"):
            return 0.0
        return parse_duration(v)


def settings_of(config) -> NotifySettings:
    """The notify settings of a Config (defaults until the key exists there)."""
    s = getattr(config, "notify", None)
    if isinstance(s, NotifySettings):
        return s
    if isinstance(s, dict):
        return NotifySettings.model_validate(s)
    return NotifySettings()
