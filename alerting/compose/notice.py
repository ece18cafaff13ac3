"""The notice every other message about an incident is: a band saying how urgent it is,
a heading, a lead, facts about the incident, paragraphs saying what to do (template
``notice``).

Escalations, reminders, overdue deadlines and secondary crises word themselves through
``incident_notice``, so every one shows the same facts in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from alerting.compose import urgency
from alerting.compose.spec import LinkRequest, MessageSpec
from alerting.compose.views import incident_view, post_views
from core.times import office_time
from core.vocabulary import Category, IncidentStatus, Severity


def tag(incident) -> str:
    """The subject's prefix: urgency, severity and number, e.g. 【紧急】【Ⅱ级 重大·#12】."""
    return f"{urgency.subject_prefix(incident.severity)}【{Severity.label_of(incident.severity)}·#{incident.id}】"


def incident_facts(incident, config) -> list[tuple[str, str]]:
    """What every incident notice shows about its incident."""
    facts = [
        ("事件编号", f"#{incident.id}"),
        ("当前状态", IncidentStatus.label_of(incident.status)),
        ("性质", Category.label_of(incident.category)),
        ("危害程度", Severity.label_of(incident.severity)),
        ("传播范围", f"帖文 {incident.post_count} 条，网站 {incident.site_count} 个"),
        ("立案时间", office_time(incident.opened_at, config.tz)),
    ]
    if getattr(incident, "related_to_id", None):
        facts.append(("关联事件", f"#{incident.related_to_id}"))
    return facts


def incident_notice(
    *,
    key: str,
    kind: str,
    to: Sequence[str],
    subject: str,
    incident,
    config,
    heading: str,
    lead: str = "",
    facts: Sequence[tuple[str, str]] = (),
    paragraphs: Sequence[str] = (),
    posts: Sequence = (),
    repeat: bool = False,
    not_before: datetime | None = None,
    extra: dict | None = None,
    link: LinkRequest | None = None,
) -> MessageSpec:
    """A notice about ``incident``; ``facts`` come before the incident's own, empty
    paragraphs are left out, ``posts`` (``(post, match)`` pairs) are listed; ``extra``
    adds template blocks (``story``, ``measures``, ``ask``); ``link``: each addressed
    person's copy carries their own one-tap link (alerting/links)."""
    context = {
        "heading": heading,
        "lead": lead,
        "facts": list(facts) + incident_facts(incident, config),
        "paragraphs": [p for p in paragraphs if p],
        "incident": incident_view(incident, config),
        "band": urgency.band(incident.severity, heading).as_dict(),
        **(extra or {}),
    }
    if posts:
        context["posts"], context["more"] = post_views(list(posts), config)
    return MessageSpec(
        key=key,
        kind=kind,
        to=tuple(to),
        subject=subject,
        template="notice",
        context=context,
        incident_id=incident.id,
        severity=incident.severity,
        repeat=repeat,
        not_before=not_before,
        link=link,
    )
