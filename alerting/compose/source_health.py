"""Source health: a source that keeps failing (【采集异常】) and its recovery (【采集恢复】).

What the office cannot see matters as much as what it sees. Both are keyed by the
outage (the source's last success before it began), so one outage is told once, and its
end once.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alerting.compose import urgency
from alerting.compose.spec import MessageSpec
from core.times import office_time
from core.vocabulary import FetchErrorKind, MessageKind


def _outage(last_success: datetime | None) -> str:
    return last_success.isoformat() if last_success else "never"


def down_key(name: str, last_success: datetime | None) -> str:
    """One down notice per source and outage."""
    return f"source_down:{name}:{_outage(last_success)}"


def source_down(
    source, last_success: datetime | None, *, tz: ZoneInfo, label: str | None = None
) -> MessageSpec:
    """``source`` (its health columns) has failed ``consecutive_failures`` times in a row
    since ``last_success``; ``label`` is the name the office knows it by."""
    name, n = label or source.name, source.consecutive_failures
    return MessageSpec(
        key=down_key(source.name, last_success),
        kind=MessageKind.SOURCE_DOWN.value,
        to=("office",),
        source=source.name,
        subject=f"【{MessageKind.SOURCE_DOWN.label}】来源“{name}”连续 {n} 次采集失败",
        template="notice",
        context={
            "heading": "采集来源异常",
            "lead": f"来源“{name}”已连续 {n} 次采集失败，在恢复之前，该来源上的新帖文无法被监测到。",
            "band": urgency.neutral(MessageKind.SOURCE_DOWN.label).as_dict(),
            "facts": [
                ("来源", name if name == source.name else f"{name}（{source.name}）"),
                ("错误类型", FetchErrorKind.label_of(source.last_error_kind)),
                ("错误详情", (source.last_error or "—")[:300]),
                ("最近一次成功", office_time(last_success, tz) if last_success else "从未成功"),
            ],
            "paragraphs": ["请检查该网站是否改版、限制访问或地址变更；恢复后系统会另行通知。"],
        },
    )


def source_recovered(
    source, last_success: datetime | None, *, label: str | None = None
) -> MessageSpec:
    """``source`` works again after the outage that began after ``last_success``."""
    name = label or source.name
    return MessageSpec(
        key=f"source_recovered:{source.name}:{_outage(last_success)}",
        kind=MessageKind.SOURCE_RECOVERED.value,
        to=("office",),
        source=source.name,
        subject=f"【{MessageKind.SOURCE_RECOVERED.label}】来源“{name}”已恢复正常",
        template="notice",
        context={
            "heading": "采集来源已恢复",
            "lead": f"来源“{name}”已恢复正常采集。",
            "band": urgency.neutral(MessageKind.SOURCE_RECOVERED.label).as_dict(),
            "facts": [
                ("来源", name if name == source.name else f"{name}（{source.name}）"),
                ("本次新增帖文", str(source.last_new)),
            ],
            "paragraphs": ["中断期间的帖文如仍在网站上，已在本次采集中补采。"],
        },
    )
