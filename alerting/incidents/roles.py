"""Who may do what (工作机构), enforced here and nowhere else.

- office (舆情办工作人员): everything;
- leader (学院领导): reads every incident, acknowledges a report addressed to them,
  approves or sends back replies, assigns;
- unit (单位信息管理员): reports (报案), and for its own unit's incidents: sees them,
  adds notes and files, drafts and publishes the reply, records the Q&A meeting.

Every domain function a person calls starts with ``require``, so an unknown or inactive
name, or a role that may not act, is an error before anything changes — whether the
call comes from the CLI, the console or a signed link.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from alerting.incidents import users
from alerting.incidents.workflow import WorkflowError
from core.vocabulary import Role
from storage.models import Incident, IncidentUnit, User

OFFICE = (Role.OFFICE.value,)
OFFICE_AND_LEADERS = (Role.OFFICE.value, Role.LEADER.value)
LEADERS = (Role.LEADER.value,)
EVERYONE = tuple(r.value for r in Role)


class RoleError(WorkflowError):
    """A person whose role does not allow the action."""


def actor(session: Session, by: str | User | None) -> User:
    """The active user named ``by`` (a ``User`` passes through once checked active)."""
    if isinstance(by, User):
        if not by.active:
            raise users.UserError(f"用户 '{by.name}' 已停用")
        return by
    name = (by or "").strip()
    if not name:
        raise WorkflowError("请用 --by 写明操作人姓名（记入处置记录）")
    return users.get(session, name)


def units_of(session: Session, incident: Incident) -> list[str]:
    """The units that follow the incident, in the order they were added."""
    return list(
        session.scalars(
            select(IncidentUnit.unit)
            .where(IncidentUnit.incident_id == incident.id)
            .order_by(IncidentUnit.id)
        )
    )


def own_unit(session: Session, user: User, incident: Incident) -> bool:
    """The user is an information manager of one of the incident's units."""
    return (
        user.role == Role.UNIT.value
        and bool(user.unit)
        and user.unit in units_of(session, incident)
    )


def can_see(session: Session, user: User, incident: Incident) -> bool:
    return user.role in OFFICE_AND_LEADERS or own_unit(session, user, incident)


def require(
    session: Session,
    by: str | User | None,
    what: str,
    incident: Incident | None = None,
    *,
    roles: tuple[str, ...] = OFFICE,
    own_unit_may: bool = False,
) -> User:
    """The acting user, when their role allows ``what`` (a few Chinese words: 结案,
    审定答复…): one of ``roles`` may act on any incident; with ``own_unit_may`` an
    information manager may act on an incident of their own unit."""
    user = actor(session, by)
    if user.role in roles:
        return user
    if own_unit_may and incident is not None and own_unit(session, user, incident):
        return user
    who = f"{user.name}（{Role.label_of(user.role)}{'，' + user.unit if user.unit else ''}）"
    if own_unit_may and user.role == Role.UNIT.value and incident is not None:
        raise RoleError(f"{who}只能对本单位的事件{what}；事件 #{incident.id} 不属于{user.unit}")
    allowed = "、".join(Role.label_of(r) for r in roles)
    extra = "及本单位信息管理员" if own_unit_may else ""
    raise RoleError(f"{who}不能{what}：只有{allowed}{extra}可以{what}")


def require_see(session: Session, by: str | User | None, incident: Incident) -> User:
    """The viewer, when they may see the incident (a unit sees only its own)."""
    user = actor(session, by)
    if not can_see(session, user, incident):
        raise RoleError(f"事件 #{incident.id} 不属于{user.unit or '您的单位'}，{user.name}无权查看")
    return user


def visible(query: Select, user: User) -> Select:
    """Restrict an incident query to what ``user`` may see."""
    if user.role in OFFICE_AND_LEADERS:
        return query
    return query.where(
        exists().where(
            IncidentUnit.incident_id == Incident.id, IncidentUnit.unit == (user.unit or "")
        )
    )


def acknowledger(
    session: Session, incident: Incident, by: str | User | None, levels, config
) -> User:
    """Who may acknowledge the incident's reports: the office, or a person a report was
    addressed to — their e-mail among the recipients of a level that was told."""
    user = actor(session, by)
    if user.role in OFFICE:
        return user
    email = (user.email or "").strip().lower()
    for esc in levels:
        told = (
            {a.lower() for a in config.addresses(list(esc.groups))} if config is not None else set()
        )
        if email and email in told:
            return user
    if not levels:
        raise RoleError(
            f"事件 #{incident.id} 尚未报告任何人，{user.name}不能确认收到（舆情办工作人员可以确认）"
        )
    told_to = "、".join(
        dict.fromkeys(
            config.group_label(g) if config is not None else g for e in levels for g in e.groups
        )
    )
    raise RoleError(
        f"{user.name}不在这份报告的报送名单中（报送：{told_to}；按邮箱 {user.email or '（未登记）'} 核对），"
        "不能确认收到；舆情办工作人员可以确认"
    )
