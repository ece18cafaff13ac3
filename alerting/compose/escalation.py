"""Timely reporting (及时报告): the report to one group of one escalation level.

The groups of one level are told at the same moment (dual reporting, 双重报告); each
group gets its own message, so a failure to reach one never holds back the other.

A report stands on its own: a leader or the superior department may read nothing else
about the incident. It tells the story in two lines, the first source and the spread,
the top posts with the matched terms highlighted and their links, the proposed category
and measures, what the reader is asked to do and how, and the deadline.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting.compose.incident import GUIDANCE
from alerting.compose.notice import incident_notice, tag
from alerting.compose.spec import LinkRequest, MessageSpec
from alerting.compose.story import (
    Report,
    Spread,
    ask,
    first_source_text,
    groups_text,
    measure_lines,
    story_lines,
)
from core.vocabulary import Category, MessageKind

TOP_POSTS = 3


def key(incident_id: int, level: int, group: str) -> str:
    """One report per incident, level and group."""
    return f"escalation:{incident_id}:{level}:{group}"


def level_report(
    incident,
    *,
    report: Report,
    group: str,
    config,
    posts: Sequence = (),
    spread: Spread | None = None,
) -> MessageSpec:
    """The report of ``report.level`` to ``group`` (one of the level's groups), with
    the incident's ``posts`` (``(post, match)`` pairs, the gravest first) and ``spread``."""
    dual = len(report.groups) > 1
    level = report.level
    wanted = ask(incident, report, group, config)
    others = [g for g in report.groups if g != group]
    facts = [
        ("报告级别", f"第{level}级" + ("（双重报告）" if dual else "")),
        ("本级报告对象", groups_text(config, report.groups)),
        ("首发来源", first_source_text(spread, config)),
        ("请确认期限", wanted["due"]),
    ]
    if report.note:
        facts.insert(1, ("报告原因", report.note))
    nature = Category.get(incident.category)
    return incident_notice(
        key=key(incident.id, level, group),
        kind=MessageKind.ESCALATION.value,
        to=[group],
        subject=f"{tag(incident)}舆情报告（第{level}级{'，双重报告' if dual else ''}）：{incident.title}",
        incident=incident,
        config=config,
        heading=f"舆情报告（第{level}级）",
        lead=(f"本报告同时报送{groups_text(config, others)}。" if others else ""),
        facts=facts,
        posts=list(posts)[:TOP_POSTS],
        extra={
            "story": story_lines(incident, spread, config),
            "measures": measure_lines(
                incident, GUIDANCE.get(nature, "") if nature else "", spread, config
            ),
            "measures_heading": (
                f"拟定性与处置措施：{nature.plan_name}" if nature else "拟采取的处置措施"
            ),
            "ask": wanted,
            "posts_heading": "主要帖文",
        },
        link=LinkRequest("ack"),
    )
