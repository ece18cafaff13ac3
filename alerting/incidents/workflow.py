"""The ticket's lifecycle, as the plan orders its steps, and the append-only event log.

reported (报案) → assessing (研判) → escalated (报告) → handling (分类处理)
→ tracking (动态跟踪) → closed (总结评估); a tracked or closed incident can be
reopened (二次危机), and a reopened one goes back to assessment or straight to handling.
Every change is an IncidentEvent with who, when and a note; events are never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sentinel.errors import SentinelError
from storage.models import Incident, IncidentEvent

STATES = ("reported", "assessing", "escalated", "handling", "tracking", "closed", "reopened")

STATE_LABELS = {
    "reported": "已报案",
    "assessing": "研判中",
    "escalated": "已报告",
    "handling": "分类处理中",
    "tracking": "动态跟踪",
    "closed": "已结案",
    "reopened": "已重新打开",
}

# Only the plan's order; nothing skips a step.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("assessing",),
    "assessing": ("escalated",),
    "escalated": ("handling",),
    "handling": ("tracking",),
    "tracking": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("assessing", "handling"),
}

OPEN_STATES = ("reported", "assessing", "escalated", "handling", "reopened")

CATEGORIES = ("inquiry", "hype", "illegal", "constructive")
CATEGORY_LABELS = {
    "inquiry": "询问质疑诉求",
    "hype": "恶意传播炒作",
    "illegal": "捏造诽谤煽动",
    "constructive": "建设性意见",
}
SEVERITIES = ("I", "II", "III", "IV")
SEVERITY_LABELS = {"I": "Ⅰ 特别重大", "II": "Ⅱ 重大", "III": "Ⅲ 较大", "IV": "Ⅳ 一般"}

EVENT_LABELS = {
    "opened": "立案",
    "reported": "报案",
    "post_added": "新增帖文",
    "transition": "状态变更",
    "assessed": "研判",
    "classified": "定性分类",
    "severity_set": "定级",
    "assigned": "指派",
    "escalation_sent": "逐级报告",
    "acknowledged": "确认收到",
    "check": "完成事项",
    "checklist_added": "生成处置清单",
    "overdue": "事项逾期",
    "evidence_added": "固定证据",
    "note": "备注",
    "secondary_crisis": "二次危机",
    "close_proposed": "建议结案",
    "growth": "传播增长",
}


class WorkflowError(SentinelError):
    """An action the plan does not allow in the ticket's current state."""


def severity_rank(sev: str | None) -> int:
    """Higher is graver: IV=1 … I=4; None=0."""
    return {"IV": 1, "III": 2, "II": 3, "I": 4}.get(sev or "", 0)


def record(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    actor: str = "system",
    now: datetime,
    note: str | None = None,
    **data: Any,
) -> IncidentEvent:
    """Append one event to the incident's log (the only way anything is logged)."""
    ev = IncidentEvent(incident_id=incident.id, at=now, actor=actor or "system", kind=kind, note=note, data=data)
    session.add(ev)
    incident.updated_at = now
    session.flush()
    return ev


def can_move(incident: Incident, to: str) -> bool:
    return to in TRANSITIONS.get(incident.status, ())


def transition(
    session: Session, incident: Incident, to: str, *, actor: str, now: datetime, note: str | None = None,
    **data: Any,
) -> IncidentEvent:
    """Move the ticket to ``to`` if the plan allows it from its current state."""
    if to not in STATES:
        raise WorkflowError(f"未知状态 '{to}'；可用：{', '.join(STATES)}")
    if not can_move(incident, to):
        allowed = TRANSITIONS.get(incident.status, ())
        nxt = "、".join(f"{s}（{STATE_LABELS[s]}）" for s in allowed) or "无"
        raise WorkflowError(
            f"事件 #{incident.id} 当前为 {incident.status}（{STATE_LABELS[incident.status]}），"
            f"不能转为 {to}（{STATE_LABELS[to]}）；下一步可为：{nxt}"
        )
    before = incident.status
    incident.status = to
    if to == "closed":
        incident.closed_at = now
    if to == "reopened":
        incident.closed_at = None
        incident.reopened_count = (incident.reopened_count or 0) + 1
    return record(session, incident, "transition", actor=actor, now=now, note=note, **{"from": before, "to": to}, **data)


def get_incident(session: Session, incident_id: int) -> Incident:
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise WorkflowError(f"没有编号为 {incident_id} 的事件")
    return inc
