"""The incident alert (【舆情预警】) and its follow-up (【舆情续报】).

The first alert of an incident lists its first posts with what the plan asks for the
incident's category; a follow-up lists the posts that joined in one group window.
Both are mails of the incident's thread: the first alert is its root.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting.compose.spec import MessageSpec
from alerting.compose.text import clean_line
from alerting.compose.views import incident_view, post_views
from core.vocabulary import Category, MessageKind, Severity

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
    """``【舆情预警】【Ⅲ级 较大】【询问质疑诉求】<title><suffix>``."""
    title = clean_line(incident.title, 60) or f"事件 #{incident.id}"
    parts = [f"【{tag}】", f"【{Severity.label_of(incident.severity)}】"]
    if incident.category:
        parts.append(f"【{Category.label_of(incident.category)}】")
    return "".join(parts) + title + suffix


def opened(
    incident, posts: Sequence, *, to: Sequence[str], config, silenced: bool = False
) -> MessageSpec:
    """The first alert of a new incident, listing ``posts`` (``(post, match)`` pairs)."""
    tag = MessageKind.NEW_INCIDENT.label
    views, more = post_views(list(posts), config)
    return MessageSpec(
        key=opened_key(incident.id),
        kind=MessageKind.NEW_INCIDENT.value,
        to=tuple(to),
        subject=subject(tag, incident),
        template="incident",
        context={
            "heading": tag,
            "lead": "监测发现一起涉及我校的网络舆情，请及时研判处置。",
            "incident": incident_view(incident, config),
            "guidance": GUIDANCE.get(incident.category or "", ""),
            "posts": views,
            "more": more,
            "posts_heading": "首发帖子" if len(views) == 1 else "相关帖子",
        },
        incident_id=incident.id,
        severity=incident.severity,
        root=True,
        silenced=silenced,
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
        },
        incident_id=incident.id,
        severity=incident.severity,
        silenced=silenced,
    )
