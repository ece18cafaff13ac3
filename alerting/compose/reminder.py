"""Reminders: a report nobody acknowledged, a checklist item past its deadline, a quiet
incident ready to be closed.

A reminder that repeats is keyed so that asking again (the daemon's tick asks every
minute) queues nothing new: an unacknowledged report is a family (``repeat``) reminded
once per ``notify.repeat_interval``; an overdue item once, then again on the incident
settings' ``overdue_repeat`` (the tick passes the time it asks at).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerting.compose import story
from alerting.compose.notice import incident_notice, tag
from alerting.compose.spec import LinkRequest, MessageSpec
from core.times import office_time
from core.vocabulary import MessageKind


def unacknowledged(
    incident, *, level: int, groups: Sequence[str], ack_due_at: datetime, config
) -> MessageSpec:
    """The last level's report is past its deadline and nobody has acknowledged it."""
    groups = list(groups)
    readers = [g for g in groups if g != "office"] or groups or ["office"]
    wanted = story.ask(incident, story.Report(level, tuple(groups), ack_due_at), readers[0], config)
    return incident_notice(
        key=f"escalation-reminder:{incident.id}:{level}",
        kind=MessageKind.REMINDER.value,
        to=list(groups),
        subject=f"{tag(incident)}提醒：舆情报告尚未确认：{incident.title}",
        incident=incident,
        config=config,
        heading="舆情报告尚未确认",
        lead=(
            f"第{level}级报告（报告对象：{story.groups_text(config, groups)}）已超过确认期限 "
            f"{office_time(ack_due_at, config.tz)}，仍无人确认。"
        ),
        repeat=True,
        extra={"ask": {**wanted, "deadline": "请尽快确认收到。" + wanted["after"]}},
        link=LinkRequest("ack"),
    )


def overdue(
    incident, item, *, to: Sequence[str], config, again_at: datetime | None = None
) -> MessageSpec:
    """A checklist item past its deadline. ``again_at``: the time of a repeated alert
    about the same item (None for the first)."""
    due = office_time(item.due_at, config.tz)
    return incident_notice(
        key=f"overdue:{item.id}"
        if again_at is None
        else f"overdue:{item.id}:{again_at.isoformat()}",
        kind=MessageKind.OVERDUE.value,
        to=to,
        subject=f"{tag(incident)}处置事项逾期：{item.title}（期限 {due}）",
        incident=incident,
        config=config,
        heading="处置事项已逾期",
        lead=f"“{item.title}”的期限 {due} 已过，尚未办结。",
        facts=[("事项", item.title), ("期限", due)],
        paragraphs=[
            f"办结后请登记：sentinel incident check {incident.id} {item.key} --by 姓名 --note 办理情况"
        ],
    )


def close_proposed(incident, *, days: float, config) -> MessageSpec:
    """An incident in tracking with nothing new for ``days``: review it and close it."""
    return incident_notice(
        key=f"close_proposed:{incident.id}:{incident.reopened_count}",
        kind=MessageKind.REMINDER.value,
        to=["office"],
        subject=f"{tag(incident)}建议结案：{incident.title}",
        incident=incident,
        config=config,
        heading="建议总结评估并结案",
        lead=f"该事件已连续 {days:g} 天无新的相关帖文。",
        paragraphs=[
            f"生成总结评估报告：sentinel incident review {incident.id} --out review.html",
            f"结案：sentinel incident close {incident.id} --by 姓名 --note 总结评估意见",
        ],
    )
