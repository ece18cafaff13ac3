"""What people do to a ticket, one function per action. The CLI (and later the web
console) calls these; each checks who acts (``roles``) and the plan's rules, then
appends to the event log. ``by`` names an active user; nothing changes otherwise."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.incidents import assessment, escalation, evidence, playbooks, roles, units, users
from alerting.incidents.workflow import WorkflowError, record, transition
from core.times import office_time
from core.vocabulary import Category, IncidentStatus, Severity, actor_label
from storage.models import ChecklistItem, Incident


def _actor(session: Session, by: str | None, what: str, incident: Incident, **kw) -> str:
    """The acting user's name, once ``roles`` allows them ``what`` (office only unless
    ``roles=``/``own_unit_may=`` say otherwise)."""
    return roles.require(session, by, what, incident, **kw).name


def assess(
    session: Session,
    incident: Incident,
    *,
    config,
    outbox,
    now: datetime,
    by: str,
    cause: str | None = None,
    state: str | None = None,
    development: str | None = None,
    scope: str | None = None,
    measures: str | None = None,
    severity: str | None = None,
    category: str | None = None,
    note: str | None = None,
) -> dict:
    """快速研判: measure, fill in what people give, and move to 'assessing'. A severity
    raised here moves the escalation at once (``set_severity``)."""
    by = _actor(session, by, "研判", incident)
    if incident.status in ("reported", "reopened"):
        transition(session, incident, "assessing", actor=by, now=now, note="开始研判")
    elif incident.status in ("closed",):
        raise WorkflowError(f"事件 #{incident.id} 已结案；如需重新研判请先 reopen")
    m = assessment.refresh(session, incident, now)
    changed = {}
    for field, value in (
        ("cause", cause),
        ("state_desc", state),
        ("development", development),
        ("scope", scope),
        ("measures", measures),
    ):
        if value is not None:
            setattr(incident, field, value)
            changed[field] = value
    if severity is not None:
        set_severity(session, incident, severity, config=config, outbox=outbox, now=now, by=by)
    if category is not None:
        classify(session, incident, category, config=config, now=now, by=by, start_handling=False)
    record(
        session,
        incident,
        "assessed",
        actor=by,
        now=now,
        note=note or m.summary(),
        fields=changed,
        measures=_jsonable(m.to_dict()),
    )
    return m.to_dict()


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            v = _jsonable(v)
        elif hasattr(v, "isoformat"):
            v = v.isoformat()
        out[k] = v
    return out


def set_severity(
    session: Session,
    incident: Incident,
    severity: str,
    *,
    config,
    outbox,
    now: datetime,
    by: str,
) -> None:
    """定级: set the harm level. When it rises, the escalation follows the rule covering
    the new level at once (``escalation.severity_rose``): the caller cannot forget it."""
    level = Severity.get(severity)
    if level is None:
        raise WorkflowError(f"危害程度应为 {Severity.choices_text()} 之一，而不是“{severity}”")
    by = _actor(session, by, "定级", incident)
    severity = level.value
    before = incident.severity
    incident.severity = severity
    record(
        session,
        incident,
        "severity_set",
        actor=by,
        now=now,
        note=f"危害程度定为{level.label}",
        before=before,
        severity=severity,
    )
    escalation.severity_rose(session, incident, before, config=config, outbox=outbox, now=now)


def classify(
    session: Session,
    incident: Incident,
    category: str,
    *,
    config,
    now: datetime,
    by: str,
    note: str | None = None,
    start_handling: bool = True,
) -> None:
    """定性分类: confirm or change the category; its checklist follows. From 'escalated'
    (or 'reopened') this starts 分类处理 (handling)."""
    by = _actor(session, by, "定性分类", incident)
    cat = Category.get(category)
    if cat is None:
        raise WorkflowError(f"类别应为 {Category.choices_text()} 之一，而不是“{category}”")
    category = cat.value
    if incident.status == "closed":
        raise WorkflowError(f"事件 #{incident.id} 已结案，不能再改定类别")
    before = incident.category
    incident.category = category
    record(
        session,
        incident,
        "classified",
        actor=by,
        now=now,
        note=note or f"定性为{cat.plan_name}",
        before=before,
        category=category,
    )
    if before != category:
        incident.measures = None
    # Confirming the proposed category keeps every open duty; changing it replaces the
    # other category's open items with the new category's.
    playbooks.apply(session, incident, config, now=now, keep_open=before == category)
    if category == "illegal":
        evidence.preserve(session, incident, now=now)
    if start_handling and incident.status in ("escalated", "reopened"):
        transition(session, incident, "handling", actor=by, now=now, note="开始分类处理")


def escalate(
    session: Session,
    incident: Incident,
    *,
    config,
    outbox,
    now: datetime,
    by: str,
    note: str | None = None,
    groups: list[str] | None = None,
) -> dict:
    """及时报告: tell the next level (from 'assessing' this moves the ticket to 'escalated')."""
    by = _actor(session, by, "逐级报告", incident)
    unknown = [g for g in groups or [] if config.unknown_group(g)]
    if unknown:
        known = (
            "、".join(f"{config.group_label(g)}（{g}）" for g in config.recipients)
            or "（未定义任何组）"
        )
        raise WorkflowError(
            f"收件组“{'、'.join(unknown)}”未在 recipients 中定义，未作任何报告；已定义的组：{known}"
        )
    if incident.status == "reported":
        raise WorkflowError(
            f"事件 #{incident.id} 尚未研判；请先 sentinel incident assess {incident.id} --by 姓名"
        )
    if incident.status == "closed":
        raise WorkflowError(f"事件 #{incident.id} 已结案")
    if incident.status == "assessing":
        transition(
            session, incident, "escalated", actor=by, now=now, note=note or "研判完毕，逐级报告"
        )
    esc = escalation.escalate(
        session, incident, config=config, outbox=outbox, now=now, actor=by, note=note, groups=groups
    )
    return {
        "level": esc.level,
        "groups": esc.groups,
        "ack_due_at": esc.ack_due_at,
        "group_labels": [config.group_label(g) for g in esc.groups],
    }


def assign(session: Session, incident: Incident, name: str, *, now: datetime, by: str) -> None:
    """指派: the person responsible (office or a leader assigns)."""
    by = _actor(session, by, "指派负责人", incident, roles=roles.OFFICE_AND_LEADERS)
    user = users.get(session, name)
    before = incident.assignee.name if incident.assignee else None
    incident.assignee = user
    session.flush()
    record(
        session,
        incident,
        "assigned",
        actor=by,
        now=now,
        note=f"指派给 {user.name}",
        before=before,
        assignee=user.name,
    )


def find_item(session: Session, incident: Incident, which: str) -> ChecklistItem:
    items = list(
        session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.incident_id == incident.id)
            .order_by(ChecklistItem.id)
        )
    )
    for i, item in enumerate(items, 1):
        if which in (item.key, item.title, str(i)):
            return item
    listing = (
        "；".join(f"{i}. {it.key}（{it.title}）" for i, it in enumerate(items, 1))
        or "（无处置清单，请先定性分类）"
    )
    raise WorkflowError(f"事件 #{incident.id} 没有事项 '{which}'；清单：{listing}")


def check(
    session: Session,
    incident: Incident,
    which: str,
    *,
    config,
    now: datetime,
    by: str,
    note: str | None = None,
    undo: bool = False,
) -> ChecklistItem:
    """Tick a checklist item with a note (or untick it with ``undo``). The reply item is
    ticked only by publishing an approved reply, the meeting item by its record."""
    by = _actor(session, by, "勾选处置事项", incident)
    item = find_item(session, incident, which)
    if undo:
        item.done_at = item.done_by = None
        record(
            session,
            incident,
            "check",
            actor=by,
            now=now,
            note=f"撤销完成：{item.title}（{note or ''}）",
            item=item.key,
            undo=True,
        )
        return item
    if item.done_at is not None:
        raise WorkflowError(
            f"事项“{item.title}”已于 {office_time(item.done_at)} 由 {actor_label(item.done_by)} 完成"
        )
    _by_its_record(session, incident, item, config)
    item.done_at, item.done_by, item.note = now, by, note
    late = item.due_at is not None and now > item.due_at
    record(
        session,
        incident,
        "check",
        actor=by,
        now=now,
        note=f"{item.title}{'（逾期完成）' if late else ''}：{note or ''}",
        item=item.key,
        late=late,
    )
    return item


def _by_its_record(session: Session, incident: Incident, item: ChecklistItem, config) -> None:
    from alerting.incidents import meeting, replies

    spec = playbooks.spec_of_item(config, incident.category, item.key)
    auto = spec.auto if spec else None
    if auto == "reply" and replies.published(session, incident) is None:
        raise WorkflowError(
            f"“{item.title}”须在答复经领导审定并发布后才算完成：sentinel incident reply {incident.id} --text 答复内容，"
            f"领导 approve 后 sentinel incident publish {incident.id}"
        )
    if auto == "meeting" and meeting.latest(session, incident) is None:
        raise WorkflowError(
            f"“{item.title}”须先登记答疑会：sentinel incident meeting {incident.id} --at 时间 --place 地点 "
            "--attendees 参加人员 --questions 问题 --answers 解答"
        )


def add_note(session: Session, incident: Incident, text: str, *, now: datetime, by: str) -> None:
    """备注: the office, or an information manager of the incident's unit."""
    by = _actor(session, by, "添加备注", incident, own_unit_may=True)
    if not text or not text.strip():
        raise WorkflowError("备注内容不能为空")
    record(session, incident, "note", actor=by, now=now, note=text.strip())


def resolve(
    session: Session,
    incident: Incident,
    *,
    config,
    now: datetime,
    by: str,
    note: str | None = None,
    tracker: str | None = None,
    force: bool = False,
    outbox=None,
) -> None:
    """处置完毕 → 动态跟踪, followed by a named person (the assignee, or ``tracker``); the
    units that reported it are told (with ``outbox``)."""
    by = _actor(session, by, "转入动态跟踪", incident)
    if incident.status != "handling":
        raise WorkflowError(
            f"只有分类处理中的事件才能转入动态跟踪；事件 #{incident.id} 当前为“{IncidentStatus.label_of(incident.status)}”"
        )
    if tracker:
        assign(session, incident, tracker, now=now, by=by)
    if incident.assignee_id is None:
        raise WorkflowError(
            "动态跟踪需要指定跟踪人：--tracker 姓名（或先 sentinel incident assign）"
        )
    pending = [
        i
        for i in session.scalars(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == incident.id, ChecklistItem.done_at.is_(None)
            )
        )
        if not _optional(config, incident, i)
    ]
    if pending and not force:
        names = "、".join(f"{i.key}（{i.title}）" for i in pending)
        raise WorkflowError(
            f"还有未完成的处置事项：{names}；完成后再转入跟踪，或加 --force 并在备注中说明原因"
        )
    m = assessment.measure(session, incident, now)
    transition(
        session,
        incident,
        "tracking",
        actor=by,
        now=now,
        note=note or "处置完毕，转入动态跟踪",
        engagement=m.engagement,
        posts=m.posts,
        sites=m.sites,
        tracker=incident.assignee.name,
        pending=[i.key for i in pending],
    )
    if outbox is not None:
        units.tell_resolved(session, incident, config=config, outbox=outbox)


def _optional(config, incident: Incident, item: ChecklistItem) -> bool:
    spec = playbooks.item_spec(config, incident.category, item.key)
    return bool(spec and spec.optional)


def reopen(
    session: Session, incident: Incident, *, now: datetime, by: str, note: str | None = None
) -> None:
    by = _actor(session, by, "重新打开事件", incident)
    transition(session, incident, "reopened", actor=by, now=now, note=note or "重新打开")


def close(
    session: Session, incident: Incident, *, now: datetime, by: str, note: str | None
) -> None:
    """总结评估后结案: a summary note is required."""
    by = _actor(session, by, "结案", incident)
    if not note or not note.strip():
        raise WorkflowError("结案需要总结评估意见：--note '……'")
    transition(session, incident, "closed", actor=by, now=now, note=note.strip())
