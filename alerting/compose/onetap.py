"""The one-tap link block of a message: what a person reads above their own signed link.

Escalations, their reminders and approval requests carry, in each addressed person's own
copy, ``{console_url}/ack/{token}`` or ``{console_url}/approve/{token}`` (alerting/links
signs them). The link opens a page that shows the incident and asks once more before it
acts, so the block says so: one tap to open, one to confirm, for this person only.
"""

from __future__ import annotations

from datetime import datetime

from alerting.compose.views import join_url
from core.times import office_time, zone_name


def link_url(console_url: str, action: str, token: str) -> str:
    return join_url(console_url, f"{action}/{token}")


def block(action: str, *, person: str, url: str, expires_at: datetime, config) -> dict:
    """The template block ``onetap``: the button's words, the link, and its terms."""
    until = f"{office_time(expires_at, config.tz)}（{zone_name(config.tz)}）"
    if action == "approve":
        button = "一键审定通过"
        what = "打开后可再次核对答复内容，点“确认审定通过”后生效；如需退回修改，在同一页面写明修改意见后点“退回修改”。"
    else:
        button = "一键确认收到"
        what = "打开后可核对事件概况，点“确认收到”后生效，确认后该级报告的催办即停止。"
    return {
        "button": button,
        "url": url,
        "person": person,
        "terms": f"此链接仅供{person}本人使用，{until}前有效，只能使用一次。{what}",
    }
