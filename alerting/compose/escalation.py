"""Timely reporting (及时报告): the report to one group of one escalation level.

The groups of one level are told at the same moment (dual reporting, 双重报告); each
group gets its own message, so a failure to reach one never holds back the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerting.compose.notice import incident_notice, tag
from alerting.compose.spec import MessageSpec
from core.times import office_time
from core.vocabulary import MessageKind


def key(incident_id: int, level: int, group: str) -> str:
    """One report per incident, level and group."""
    return f"escalation:{incident_id}:{level}:{group}"


def level_report(
    incident,
    *,
    level: int,
    groups: Sequence[str],
    group: str,
    ack_due_at: datetime,
    note: str | None,
    config,
) -> MessageSpec:
    """The report of level ``level`` to ``group`` (one of the level's ``groups``)."""
    dual = len(groups) > 1
    return incident_notice(
        key=key(incident.id, level, group),
        kind=MessageKind.ESCALATION.value,
        to=[group],
        subject=f"{tag(incident)}舆情报告（第{level}级{'，双重报告' if dual else ''}）：{incident.title}",
        incident=incident,
        config=config,
        heading=f"舆情报告（第{level}级）",
        lead=("同时报告：" + "、".join(groups) + "。") if dual else "",
        facts=[("请确认期限", office_time(ack_due_at, config.tz))],
        paragraphs=[
            note or "",
            incident.scope or "",
            (
                f"请在期限前确认收到：sentinel incident ack {incident.id} --by 姓名。"
                "期限内无人确认的，系统将自动报告下一级。"
            ),
        ],
    )
