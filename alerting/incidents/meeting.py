"""The offline Q&A meeting (网下答疑会): 相关部门召集有关人员开会，解答询问、质疑、诉求等
各种问题. Kept as a record — when, where, who came, what was asked and answered — not a
tick: recording it ticks the checklist's meeting item, and that item cannot be ticked
without it. The review report shows it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents import playbooks, roles
from alerting.incidents.workflow import WorkflowError, record
from core.times import office_time
from storage.models import ChecklistItem, Incident, Meeting


def latest(session: Session, incident: Incident) -> Meeting | None:
    return session.scalar(
        select(Meeting).where(Meeting.incident_id == incident.id).order_by(Meeting.id.desc())
    )


def record_meeting(
    session: Session,
    incident: Incident,
    *,
    held_at: datetime,
    place: str,
    attendees: str,
    questions: str,
    answers: str,
    by: str,
    config,
    now: datetime,
) -> Meeting:
    """登记答疑会 (the office, or the incident's unit). ``held_at`` without a zone is
    taken in the office's time zone; a meeting in the future is refused."""
    user = roles.require(session, by, "登记答疑会", incident, own_unit_may=True)
    if incident.status == "closed":
        raise WorkflowError(f"事件 #{incident.id} 已结案")
    fields = {
        "地点（--place）": place,
        "参加人员（--attendees）": attendees,
        "问题（--questions）": questions,
        "解答（--answers）": answers,
    }
    missing = [k for k, v in fields.items() if not (v or "").strip()]
    if missing:
        raise WorkflowError(f"答疑会记录还缺：{'、'.join(missing)}")
    if held_at.tzinfo is None:
        held_at = held_at.replace(tzinfo=config.tz)
    if held_at > now:
        raise WorkflowError(f"答疑会时间 {office_time(held_at, config.tz)} 还没到；开完会再登记")
    # Times are typed to the minute: one in the minute the incident opened is not before it.
    if held_at < incident.opened_at.replace(second=0, microsecond=0):
        raise WorkflowError(
            f"答疑会时间 {office_time(held_at, config.tz)} 早于立案时间 "
            f"{office_time(incident.opened_at, config.tz)}，请核对 --at"
        )
    m = Meeting(
        incident_id=incident.id,
        held_at=held_at,
        place=place.strip(),
        attendees=attendees.strip(),
        questions=questions.strip(),
        answers=answers.strip(),
        recorded_by=user.name,
        recorded_at=now,
    )
    session.add(m)
    session.flush()
    when = office_time(held_at, config.tz)
    record(
        session,
        incident,
        "meeting",
        actor=user.name,
        now=now,
        note=f"{when} 于{m.place}召开答疑会；参加：{m.attendees}；问题：{m.questions}；解答：{m.answers}",
        meeting=m.id,
    )
    for item in session.scalars(
        select(ChecklistItem).where(
            ChecklistItem.incident_id == incident.id, ChecklistItem.done_at.is_(None)
        )
    ):
        spec = playbooks.spec_of_item(config, incident.category, item.key)
        if spec is None or spec.auto != "meeting":
            continue
        late = held_at > item.due_at if item.due_at is not None else False
        item.done_at, item.done_by, item.note = (
            held_at,
            user.name,
            f"{when} 于{m.place}召开，见答疑会记录",
        )
        record(
            session,
            incident,
            "check",
            actor=user.name,
            now=now,
            note=f"{item.title}{'（逾期完成）' if late else ''}：{item.note}",
            item=item.key,
            late=late,
            meeting=m.id,
        )
    return m


def listing(session: Session, incident: Incident) -> list[dict]:
    return [
        {
            "id": m.id,
            "held_at": m.held_at,
            "place": m.place,
            "attendees": m.attendees,
            "questions": m.questions,
            "answers": m.answers,
            "recorded_by": m.recorded_by,
            "recorded_at": m.recorded_at,
        }
        for m in session.scalars(
            select(Meeting).where(Meeting.incident_id == incident.id).order_by(Meeting.id)
        )
    ]
