"""The messages the incident stage asks the outbox to send, in one place.

Each has an idempotency key, so raising the same alert twice (a re-run after a crash, a
tick that runs twice) queues it once. The outbox renders and delivers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alerting.incidents.workflow import CATEGORY_LABELS, SEVERITY_LABELS, STATE_LABELS
from storage.models import Incident


def incident_context(incident: Incident, config=None) -> dict[str, Any]:
    """What every incident message shows about its incident (plain values only)."""
    console = getattr(config, "console_url", None) if config is not None else None
    return {
        "incident_id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "status_label": STATE_LABELS.get(incident.status, incident.status),
        "category": incident.category,
        "category_label": CATEGORY_LABELS.get(incident.category or "", "未定"),
        "severity": incident.severity,
        "severity_label": SEVERITY_LABELS.get(incident.severity or "", "未定级"),
        "post_count": incident.post_count,
        "site_count": incident.site_count,
        "opened_at": incident.opened_at,
        "scope": incident.scope,
        "url": f"{console.rstrip('/')}/incidents/{incident.id}" if console else None,
    }


def send(
    session: Session,
    outbox,
    *,
    key: str,
    kind: str,
    to: list[str],
    subject: str,
    incident: Incident,
    config=None,
    template: str | None = None,
    not_before: datetime | None = None,
    **extra: Any,
) -> Any:
    """Queue one message about ``incident`` through the outbox (idempotent per key)."""
    context = incident_context(incident, config)
    context.update(extra)
    context.setdefault("kind", kind)
    return outbox.enqueue(
        session,
        key=key,
        kind=kind,
        to=list(to),
        subject=subject,
        template=template or f"incident_{kind}",
        context=context,
        incident=incident,
        severity=incident.severity,
        category=incident.category,
        not_before=not_before,
    )


def tag(incident: Incident) -> str:
    """The subject's prefix: severity and number, e.g. 【Ⅱ 重大·#12】."""
    return f"【{SEVERITY_LABELS.get(incident.severity or '', '未定级')}·#{incident.id}】"
