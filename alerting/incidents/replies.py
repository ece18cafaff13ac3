"""The reply (统一回复): 经学院主要领导和应急处置工作领导小组审定后统一回复.

The office or the incident's unit drafts a reply and sends it to the leaders (a mail
with its text); a leader approves it (审定) or sends it back with a note; only an
approved reply is published, and publishing records where it went out and ticks the
category's reply item (网上答复处理意见, 公开答复) — the only way that item is done, so
the same-day clock is met by a published reply and nothing else. A new draft
supersedes the older ones; every version and every step stays in the log::

    draft ─▶ pending ─▶ approved ─▶ published
      (草稿)   (待审定) │  (已审定)     (已发布)
                       └▶ rejected (已退回) → a new draft
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.compose import replies as words
from alerting.incidents import playbooks, roles
from alerting.incidents.workflow import WorkflowError, record
from core.vocabulary import ReplyState, Role
from storage.models import ChecklistItem, Incident, Reply, User

S = ReplyState
OPEN_STATES = (S.DRAFT.value, S.PENDING.value, S.APPROVED.value)


def latest(session: Session, incident: Incident) -> Reply | None:
    return session.scalar(
        select(Reply).where(Reply.incident_id == incident.id).order_by(Reply.version.desc())
    )


def published(session: Session, incident: Incident) -> Reply | None:
    """The last reply that went out, if any."""
    return session.scalar(
        select(Reply)
        .where(Reply.incident_id == incident.id, Reply.state == S.PUBLISHED.value)
        .order_by(Reply.version.desc())
    )


def _open(incident: Incident) -> None:
    if incident.status == "closed":
        raise WorkflowError(f"事件 #{incident.id} 已结案；如需再次答复请先 reopen")


def leader_recipients(session: Session, config) -> list[str]:
    """Who is asked to approve: the ``leaders`` group and every active leader's e-mail."""
    to = ["leaders"] if "leaders" in getattr(config, "recipients", {}) else []
    told = set(config.addresses(to)) if to else set()
    for email in session.scalars(
        select(User.email)
        .where(User.role == Role.LEADER.value, User.active.is_(True))
        .order_by(User.name)
    ):
        if email and email not in told:
            to.append(email)
            told.add(email)
    return to


def draft(
    session: Session,
    incident: Incident,
    text: str,
    *,
    by: str,
    config,
    outbox,
    now: datetime,
    hold: bool = False,
) -> Reply:
    """起草答复: a new version (the office, or the incident's unit); the older open
    versions are superseded. Unless ``hold``, it goes to the leaders at once."""
    user = roles.require(session, by, "起草答复", incident, own_unit_may=True)
    _open(incident)
    text = (text or "").strip()
    if not text:
        raise WorkflowError("答复内容不能为空：--text 答复内容")
    superseded = []
    for old in session.scalars(
        select(Reply).where(Reply.incident_id == incident.id, Reply.state.in_(OPEN_STATES))
    ):
        old.state = S.SUPERSEDED.value
        superseded.append(old.version)
    version = (
        session.scalar(select(func.max(Reply.version)).where(Reply.incident_id == incident.id)) or 0
    ) + 1
    reply = Reply(
        incident_id=incident.id,
        version=version,
        text=text,
        state=S.DRAFT.value,
        drafted_by=user.name,
        drafted_at=now,
    )
    session.add(reply)
    session.flush()
    record(
        session,
        incident,
        "reply_drafted",
        actor=user.name,
        now=now,
        note=f"第{version}稿：{text}",
        version=version,
        supersedes=superseded,
    )
    if not hold:
        _submit(session, incident, reply, user, config=config, outbox=outbox, now=now)
    return reply


def submit(
    session: Session, incident: Incident, *, by: str, config, outbox, now: datetime
) -> Reply:
    """送审: send the latest draft to the leaders."""
    user = roles.require(session, by, "送审答复", incident, own_unit_may=True)
    _open(incident)
    reply = latest(session, incident)
    if reply is None or reply.state != S.DRAFT.value:
        raise WorkflowError(_no_reply(incident, reply, "待送审的草稿"))
    _submit(session, incident, reply, user, config=config, outbox=outbox, now=now)
    return reply


def _submit(session, incident, reply: Reply, user: User, *, config, outbox, now) -> None:
    reply.state, reply.submitted_at = S.PENDING.value, now
    to = leader_recipients(session, config)
    if outbox is not None and to:
        outbox.queue(session, words.approval_request(incident, reply, to=to, config=config))
    leaders = {
        u.email.lower(): u.name
        for u in session.scalars(select(User).where(User.role == Role.LEADER.value))
        if u.email
    }
    told = (
        "、".join(leaders.get(t.lower()) or config.group_label(t) for t in to)
        or "（没有可通知的领导：请配置 recipients.leaders 或添加学院领导用户）"
    )
    record(
        session,
        incident,
        "reply_submitted",
        actor=user.name,
        now=now,
        note=f"第{reply.version}稿送领导审定：{told}",
        version=reply.version,
        to=to,
    )


def _no_reply(incident: Incident, reply: Reply | None, wanted: str) -> str:
    if reply is None:
        return f"事件 #{incident.id} 还没有答复稿；起草：sentinel incident reply {incident.id} --text 答复内容 --by 姓名"
    return f"事件 #{incident.id} 没有{wanted}：最新的第{reply.version}稿{S.label_of(reply.state)}"


def _decide(session: Session, incident: Incident, by: str, what: str) -> tuple[User, Reply]:
    user = roles.require(session, by, what, incident, roles=roles.LEADERS)
    _open(incident)
    reply = latest(session, incident)
    if reply is None or reply.state != S.PENDING.value:
        raise WorkflowError(_no_reply(incident, reply, "待审定的答复"))
    if reply.drafted_by == user.name:
        raise roles.RoleError(f"{user.name}不能审定自己起草的答复")
    return user, reply


def _tell_decision(session, incident, reply: Reply, *, config, outbox) -> None:
    if outbox is None:
        return
    to = ["office"] if "office" in getattr(config, "recipients", {}) else []
    drafter = session.scalar(select(User).where(User.name == reply.drafted_by))
    if drafter is not None and drafter.email and drafter.email not in config.addresses(to):
        to.append(drafter.email)
    if to:
        outbox.queue(session, words.decision(incident, reply, to=to, config=config))


def approve(
    session: Session,
    incident: Incident,
    *,
    by: str,
    config,
    outbox,
    now: datetime,
    note: str | None = None,
) -> Reply:
    """审定通过 (a leader): the pending reply may now be published."""
    user, reply = _decide(session, incident, by, "审定答复")
    reply.state, reply.decided_by, reply.decided_at, reply.decision_note = (
        S.APPROVED.value,
        user.name,
        now,
        note,
    )
    record(
        session,
        incident,
        "reply_approved",
        actor=user.name,
        now=now,
        note=f"第{reply.version}稿审定通过" + (f"：{note}" if note else ""),
        version=reply.version,
    )
    _tell_decision(session, incident, reply, config=config, outbox=outbox)
    return reply


def reject(
    session: Session, incident: Incident, *, by: str, note: str, config, outbox, now: datetime
) -> Reply:
    """退回修改 (a leader, with a note saying what to change)."""
    if not note or not note.strip():
        raise WorkflowError("退回答复须写明修改意见：--note 意见")
    user, reply = _decide(session, incident, by, "审定答复")
    reply.state, reply.decided_by, reply.decided_at, reply.decision_note = (
        S.REJECTED.value,
        user.name,
        now,
        note.strip(),
    )
    record(
        session,
        incident,
        "reply_rejected",
        actor=user.name,
        now=now,
        note=f"第{reply.version}稿退回修改：{note.strip()}",
        version=reply.version,
    )
    _tell_decision(session, incident, reply, config=config, outbox=outbox)
    return reply


def publish(
    session: Session,
    incident: Incident,
    *,
    by: str,
    config,
    now: datetime,
    url: str | None = None,
    note: str | None = None,
) -> Reply:
    """发布答复: only an approved reply; records where it went out and ticks the
    category's reply item."""
    user = roles.require(session, by, "发布答复", incident, own_unit_may=True)
    _open(incident)
    reply = latest(session, incident)
    if reply is None or reply.state != S.APPROVED.value:
        hint = (
            "；答复须经学院领导审定后才能发布"
            if reply is not None and reply.state == S.PENDING.value
            else ""
        )
        raise WorkflowError(_no_reply(incident, reply, "已审定的答复") + hint)
    url = (url or "").strip() or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WorkflowError(f"'{url}' 不是有效的网址（应以 http:// 或 https:// 开头）")
    reply.state, reply.published_by, reply.published_at, reply.published_url = (
        S.PUBLISHED.value,
        user.name,
        now,
        url,
    )
    where = url or "（未登记网址）"
    record(
        session,
        incident,
        "reply_published",
        actor=user.name,
        now=now,
        note=f"发布第{reply.version}稿答复（{reply.decided_by} 审定）：{where}"
        + (f"；{note}" if note else ""),
        version=reply.version,
        url=url,
    )
    for item in session.scalars(
        select(ChecklistItem).where(
            ChecklistItem.incident_id == incident.id, ChecklistItem.done_at.is_(None)
        )
    ):
        spec = playbooks.spec_of_item(config, incident.category, item.key)
        if spec is None or spec.auto != "reply":
            continue
        late = item.due_at is not None and now > item.due_at
        item.done_at, item.done_by = now, user.name
        item.note = f"已发布经 {reply.decided_by} 审定的第{reply.version}稿答复：{where}"
        record(
            session,
            incident,
            "check",
            actor=user.name,
            now=now,
            note=f"{item.title}{'（逾期完成）' if late else ''}：{item.note}",
            item=item.key,
            late=late,
            reply=reply.version,
        )
    return reply


def to_dict(r: Reply) -> dict:
    return {
        "version": r.version,
        "text": r.text,
        "state": r.state,
        "state_label": S.label_of(r.state),
        "drafted_by": r.drafted_by,
        "drafted_at": r.drafted_at,
        "submitted_at": r.submitted_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "decision_note": r.decision_note,
        "published_by": r.published_by,
        "published_at": r.published_at,
        "published_url": r.published_url,
    }


def listing(session: Session, incident: Incident) -> list[dict]:
    return [
        to_dict(r)
        for r in session.scalars(
            select(Reply).where(Reply.incident_id == incident.id).order_by(Reply.version)
        )
    ]
