"""People (工作保障): office staff, leaders and unit information managers."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import SentinelError
from core.vocabulary import Role
from storage.models import User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(SentinelError):
    """A user cannot be added, found or changed."""


def _check(role: str | None, email: str | None) -> str | None:
    """The role's stored key (the office may type 领导 for leader); ``None`` stays ``None``."""
    if role is not None and Role.get(role) is None:
        raise UserError(f"未知角色“{role}”；可用：{Role.choices_text()}")
    if email is not None and not _EMAIL.match(email):
        raise UserError(f"'{email}' 不是有效的电子邮件地址")
    return Role.get(role).value if role is not None else None


def add(session: Session, name: str, *, role: str = "office", email: str | None = None,
        unit: str | None = None) -> User:
    name = (name or "").strip()
    if not name:
        raise UserError("姓名不能为空")
    role = _check(role, email)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserError(f"用户 '{name}' 已存在；修改请用 sentinel user set")
    u = User(name=name, role=role, email=email, unit=unit, active=True)
    session.add(u)
    session.flush()
    return u


def get(session: Session, name: str, *, active_only: bool = True) -> User:
    u = session.scalar(select(User).where(User.name == name))
    if u is None or (active_only and not u.active):
        known = "、".join(session.scalars(select(User.name).where(User.active.is_(True)).order_by(User.name))) or "（无）"
        raise UserError(f"没有名为 '{name}' 的用户；现有用户：{known}（添加：sentinel user add 姓名 --role office --email 地址）")
    return u


def update(session: Session, name: str, *, role: str | None = None, email: str | None = None,
           unit: str | None = None, active: bool | None = None) -> User:
    role = _check(role, email)
    u = get(session, name, active_only=False)
    if role is not None:
        u.role = role
    if email is not None:
        u.email = email
    if unit is not None:
        u.unit = unit
    if active is not None:
        u.active = active
    return u


def listing(session: Session, *, role: str | None = None, include_inactive: bool = False) -> list[User]:
    q = select(User).order_by(User.role, User.name)
    if role:
        q = q.where(User.role == role)
    if not include_inactive:
        q = q.where(User.active.is_(True))
    return list(session.scalars(q))


def to_dict(u: User) -> dict:
    return {"id": u.id, "name": u.name, "role": u.role, "role_label": Role.label_of(u.role),
            "email": u.email, "unit": u.unit, "active": u.active, "created_at": u.created_at}
