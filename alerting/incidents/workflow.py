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

from core.errors import SentinelError
from core.vocabulary import Actor, IncidentStatus
from core.vocabulary import IncidentStatus as S
from storage.models import Incident, IncidentEvent

# Only the plan's order; nothing skips a step.
TRANSITIONS: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    S.REPORTED: (S.ASSESSING,),
    S.ASSESSING: (S.ESCALATED,),
    S.ESCALATED: (S.HANDLING,),
    S.HANDLING: (S.TRACKING,),
    S.TRACKING: (S.CLOSED, S.REOPENED),
    S.CLOSED: (S.REOPENED,),
    S.REOPENED: (S.ASSESSING, S.HANDLING),
}


class WorkflowError(SentinelError):
    """An action the plan does not allow in the ticket's current state."""


def record(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    actor: str = Actor.SYSTEM,
    now: datetime,
    note: str | None = None,
    **data: Any,
) -> IncidentEvent:
    """Append one event to the incident's log (the only way anything is logged)."""
    ev = IncidentEvent(
        incident_id=incident.id,
        at=now,
        actor=actor or Actor.SYSTEM.value,
        kind=kind,
        note=note,
        data=data,
    )
    session.add(ev)
    incident.updated_at = now
    session.flush()
    return ev


def can_move(incident: Incident, to: str) -> bool:
    return to in TRANSITIONS.get(IncidentStatus(incident.status), ())


def transition(
    session: Session,
    incident: Incident,
    to: str,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
    **data: Any,
) -> IncidentEvent:
    """Move the ticket to ``to`` if the plan allows it from its current state."""
    target = IncidentStatus.get(to)
    if target is None:
        raise WorkflowError(f"未知状态“{to}”；可用：{IncidentStatus.choices_text()}")
    to = target.value
    if not can_move(incident, to):
        allowed = TRANSITIONS.get(IncidentStatus(incident.status), ())
        nxt = "、".join(s.label for s in allowed) or "无"
        raise WorkflowError(
            f"事件 #{incident.id} 当前为“{IncidentStatus.label_of(incident.status)}”，"
            f"不能转为“{target.label}”；下一步可为：{nxt}"
        )
    before = incident.status
    incident.status = to
    if to == "closed":
        incident.closed_at = now
    if to == "reopened":
        incident.closed_at = None
        incident.reopened_count = (incident.reopened_count or 0) + 1
    return record(
        session,
        incident,
        "transition",
        actor=actor,
        now=now,
        note=note,
        **{"from": before, "to": to},
        **data,
    )


def get_incident(session: Session, incident_id: int) -> Incident:
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise WorkflowError(f"没有编号为 {incident_id} 的事件")
    return inc
