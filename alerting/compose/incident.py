"""The incident alert (【舆情预警】) and its follow-up (【舆情续报】).

The first alert of an incident lists its first posts with what the plan asks for the
incident's category; a follow-up lists the posts that joined in one group window.
Both are mails of the incident's thread: the first alert is its root.

When the incident's first escalation level is told at the moment it opens, the groups
of that level who get the alert get ONE mail that is both: the alert with the
acknowledgement deadline and what to do (``report``). A new incident that continues a
closed one (关联事件) is announced as a secondary crisis (二次危机预警) in the same mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from alerting.compose import story, urgency
from alerting.compose.spec import LinkRequest, MessageSpec
from alerting.compose.text import clean_line
from alerting.compose.views import incident_view, post_views
from core.times import office_time
from core.vocabulary import Category, MessageKind, Severity

if TYPE_CHECKING:
    from alerting.compose.story import Report, Spread

# What the plan asks for each handling category (分类处理), shown in every alert.
GUIDANCE = {
    Category.INQUIRY: "属第一类（询问、质疑、诉求）：请责任部门经领导审核后及时网上答复；不能立即答复的，当日内给出处理意见。",
    Category.HYPE: "属第二类（恶意传播、炒作）：请及时说明事实真相或处理情况，尽快查找信息源头并处理，正面引导舆论。",
    Category.ILLEGAL: "属第三类（捏造、歪曲事实，诽谤，煽动闹事）：请及时澄清事实、发布法律责任警示，查找源头并移交执法部门；"
    "系统已保存原始页面快照作为证据。",
    Category.CONSTRUCTIVE: "属第四类（建设性意见）：请相关部门研究采纳，并按要求予以答复。",
}


def opened_key(incident_id: int) -> str:
    """One first alert per incident."""
    return f"incident:{incident_id}:opened"


def update_key(incident_id: int, first_post_id: int) -> str:
    """One follow-up per group window, named by the first post it lists."""
    return f"incident:{incident_id}:update:{first_post_id}"


def subject(tag: str, incident, suffix: str = "") -> str:
    """``【舆情预警】【Ⅲ级 较大】【询问质疑诉求】<title><suffix>``, with 【特急】 (Ⅰ) or
    【紧急】 (Ⅱ) in front."""
    title = clean_line(incident.title, 60) or f"事件 #{incident.id}"
    parts = [
        urgency.subject_prefix(incident.severity),
        f"【{tag}】",
        f"【{Severity.label_of(incident.severity)}】",
    ]
    if incident.category:
        parts.append(f"【{Category.label_of(incident.category)}】")
    return "".join(parts) + title + suffix


def opened(
    incident,
    posts: Sequence,
    *,
    to: Sequence[str],
    config,
    silenced: bool = False,
    report: Report | None = None,
    spread: Spread | None = None,
    related=None,
) -> MessageSpec:
    """The first alert of a new incident, listing ``posts`` (``(post, match)`` pairs).
    With ``report`` (its first escalation level, told at the same moment) it is also
    that level's report to the groups it shares with the alert. With ``related`` (the
    closed incident whose story came back) it is a secondary-crisis alert."""
    kind = MessageKind.SECONDARY_CRISIS if related is not None else MessageKind.NEW_INCIDENT
    tag = kind.label
    views, more = post_views(list(posts), config)
    heading = tag
    lead = "监测发现一起涉及我校的网络舆情，请及时研判处置。"
    if related is not None:
        closed = (
            f"（已于 {office_time(related.closed_at, config.tz)} 结案）"
            if related.closed_at
            else ""
        )
        lead = (
            f"已结案事件 #{related.id}《{clean_line(related.title, 60)}》{closed}的话题再次出现，"
            f"已立为新事件 #{incident.id}（关联事件 #{related.id}）。请立即重新研判，必要时再次报告。"
        )
    context = {
        "heading": heading,
        "lead": lead,
        "incident": incident_view(incident, config),
        "guidance": GUIDANCE.get(incident.category or "", ""),
        "posts": views,
        "more": more,
        "posts_heading": "首发帖子" if len(views) == 1 else "相关帖子",
        "band": urgency.band(incident.severity, tag).as_dict(),
        "story": story.story_lines(incident, spread, config) if spread is not None else [],
    }
    shared = [g for g in to if report is not None and g in report.groups]
    if report is not None and shared:
        # One mail that is both the alert and the first report to these groups: the
        # acknowledgement deadline and how to acknowledge (for the first of them).
        context["heading"] = f"{tag}（第{report.level}级报告）"
        context["report"] = {
            "level": report.level,
            "groups": story.groups_text(config, report.groups),
            "shared": story.groups_text(config, shared),
        }
        context["ask"] = story.ask(incident, report, shared[0], config)
    suffix = f"（关联事件 #{related.id}）" if related is not None else ""
    return MessageSpec(
        key=opened_key(incident.id),
        kind=kind.value,
        to=tuple(to),
        subject=subject(tag, incident, suffix),
        template="incident",
        context=context,
        incident_id=incident.id,
        severity=incident.severity,
        root=True,
        silenced=silenced,
        # The groups it is the first report to acknowledge from their own copy.
        link=LinkRequest("ack") if context.get("ask") else None,
    )


def update(
    incident, posts: Sequence, *, key: str, to: Sequence[str], config, silenced: bool = False
) -> MessageSpec:
    """The follow-up of one group window, listing the ``posts`` that joined in it."""
    tag = MessageKind.INCIDENT_UPDATE.label
    n = len(posts)
    views, more = post_views(list(posts), config)
    return MessageSpec(
        key=key,
        kind=MessageKind.INCIDENT_UPDATE.value,
        to=tuple(to),
        subject=subject(tag, incident, f"（新增 {n} 条）"),
        template="incident",
        context={
            "heading": tag,
            "lead": f"事件 #{incident.id} 新增相关帖子 {n} 条，请关注事态发展。",
            "incident": incident_view(incident, config),
            "guidance": GUIDANCE.get(incident.category or "", ""),
            "posts": views,
            "more": more,
            "posts_heading": "新增帖子",
            "band": urgency.band(incident.severity, tag).as_dict(),
        },
        incident_id=incident.id,
        severity=incident.severity,
        silenced=silenced,
    )
