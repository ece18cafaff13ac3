"""The messages the incident stage asks the outbox to send, in one place.

Each has an idempotency key, so raising the same alert twice (a re-run after a crash, a
tick that runs twice) queues it once. The outbox renders them with its ``notice``
template (heading, lead, facts, paragraphs) and delivers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.times import office_time
from core.vocabulary import Category, IncidentStatus, Severity
from storage.models import Incident


def local(config, t: datetime | None) -> str:
    return office_time(t, getattr(config, "tz", None))


def incident_facts(incident: Incident, config=None) -> list[tuple[str, str]]:
    """What every incident message shows about its incident."""
    return [
        ("事件编号", f"#{incident.id}"),
        ("当前状态", IncidentStatus.label_of(incident.status)),
        ("性质", Category.label_of(incident.category)),
        ("危害程度", Severity.label_of(incident.severity)),
        ("传播范围", f"帖文 {incident.post_count} 条，网站 {incident.site_count} 个"),
        ("立案时间", local(config, incident.opened_at)),
    ]


def send(
    session: Session,
    outbox,
    *,
    key: str,
    kind: str,
    to: list[str],
    subject: str,
    incident: Incident,
    heading: str,
    lead: str = "",
    facts: list[tuple[str, str]] | None = None,
    paragraphs: list[str] | None = None,
    config=None,
    not_before: datetime | None = None,
    repeat: bool = False,
    **data: Any,
) -> Any:
    """Queue one message about ``incident`` through the outbox (idempotent per key)."""
    context: dict[str, Any] = {
        "heading": heading,
        "lead": lead,
        "facts": list(facts or []) + incident_facts(incident, config),
        "paragraphs": [p for p in (paragraphs or []) if p],
        "kind": kind,
        "data": data,
    }
    return outbox.enqueue(
        session,
        key=key,
        kind=kind,
        to=list(to),
        subject=subject,
        template="notice",
        context=context,
        incident=incident,
        severity=incident.severity,
        category=incident.category,
        not_before=not_before,
        repeat=repeat,
    )


def tag(incident: Incident) -> str:
    """The subject's prefix: severity and number, e.g. 【Ⅱ 重大·#12】."""
    return f"【{Severity.label_of(incident.severity)}·#{incident.id}】"
