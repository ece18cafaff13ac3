"""The secondary-crisis alert (二次危机预警): a handled incident moves again.

Raised while an incident is in tracking (动态跟踪) or after it was closed, when the
story comes back: a new post, a new site, engagement rising again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting.compose.notice import incident_notice, tag
from alerting.compose.spec import MessageSpec
from core.vocabulary import MessageKind


def secondary_crisis(
    incident, *, reason: str, was: str, post=None, to: Sequence[str], config
) -> MessageSpec:
    """The alert for an incident that was ``was`` (tracking or closed) and has been
    reopened for ``reason``; one per reopening."""
    return incident_notice(
        key=f"secondary_crisis:{incident.id}:{incident.reopened_count}",
        kind=MessageKind.SECONDARY_CRISIS.value,
        to=to,
        subject=f"{tag(incident)}{MessageKind.SECONDARY_CRISIS.label}：{incident.title}",
        incident=incident,
        config=config,
        heading=MessageKind.SECONDARY_CRISIS.label,
        lead=f"已处置、处于{'动态跟踪' if was == 'tracking' else '结案'}状态的事件再次出现动向，系统已重新打开该事件。",
        facts=[("触发原因", reason)] + ([("新帖文", post.url)] if post is not None else []),
        paragraphs=["请跟踪人及办公室立即重新研判，必要时再次报告。"],
    )
