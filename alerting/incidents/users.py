"""People (工作保障): office staff, leaders and unit information managers, and their
console passwords (argon2 hashes; the password itself is never stored)."""

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


def add(
    session: Session,
    name: str,
    *,
    role: str = "office",
    email: str | None = None,
    unit: str | None = None,
) -> User:
    name = (name or "").strip()
    if not name:
        raise UserError("姓名不能为空")
    role = _check(role, email)
    unit = (unit or "").strip() or None
    if role == Role.UNIT and not unit:
        raise UserError("单位信息管理员须写明所在单位：--unit 单位名称")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserError(f"用户 '{name}' 已存在；修改请用 sentinel user set")
    u = User(name=name, role=role, email=email, unit=unit, active=True)
    session.add(u)
    session.flush()
    return u


def get(session: Session, name: str, *, active_only: bool = True) -> User:
    u = session.scalar(select(User).where(User.name == name))
    if u is None or (active_only and not u.active):
        known = (
            "、".join(
                session.scalars(select(User.name).where(User.active.is_(True)).order_by(User.name))
            )
            or "（无）"
        )
        raise UserError(
            f"没有名为 '{name}' 的用户；现有用户：{known}（添加：sentinel user add 姓名 --role office --email 地址）"
        )
    return u


def update(
    session: Session,
    name: str,
    *,
    role: str | None = None,
    email: str | None = None,
    unit: str | None = None,
    active: bool | None = None,
) -> User:
    role = _check(role, email)
    u = get(session, name, active_only=False)
    if role is not None:
        u.role = role
    if email is not None:
        u.email = email
    if unit is not None:
        u.unit = unit.strip() or None
    if active is not None:
        u.active = active
    if u.role == Role.UNIT and not u.unit:
        raise UserError("单位信息管理员须写明所在单位：--unit 单位名称")
    if active is False:  # a deactivated person is logged out everywhere at once
        from storage import web_sessions

        web_sessions.end_all_of(session, u)
    return u


def listing(
    session: Session, *, role: str | None = None, include_inactive: bool = False
) -> list[User]:
    q = select(User).order_by(User.role, User.name)
    if role:
        q = q.where(User.role == role)
    if not include_inactive:
        q = q.where(User.active.is_(True))
    return list(session.scalars(q))


MIN_PASSWORD = 8


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def set_password(session: Session, name: str, password: str) -> User:
    """Store the argon2 hash of ``password`` as the user's console password. The person's
    console sessions end at once, wherever the password was set (``sentinel user passwd``
    or the console's people page): a password reset after a leak locks the old one out."""
    from storage import web_sessions

    u = get(session, name)
    if password is None or len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    if password != password.strip() or any(c in password for c in "\r\n\x00"):
        raise UserError("密码首尾不能有空格，也不能含换行")
    u.password_hash = _hasher().hash(password)
    web_sessions.end_all_of(session, u)
    return u


def check_password(session: Session, name: str, password: str) -> User | None:
    """The active user when ``password`` is theirs, else None (also for an unknown name,
    so a login form cannot tell the two apart). An old hash is upgraded on success."""
    from argon2.exceptions import InvalidHashError, VerificationError

    u = session.scalar(select(User).where(User.name == (name or "").strip(), User.active.is_(True)))
    ph = _hasher()
    if u is None or not u.password_hash:
        ph.hash(password or "x")  # the same work either way
        return None
    try:
        ph.verify(u.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if ph.check_needs_rehash(u.password_hash):
        u.password_hash = ph.hash(password)
    return u


def to_dict(u: User) -> dict:
    return {
        "id": u.id,
        "name": u.name,
        "role": u.role,
        "role_label": Role.label_of(u.role),
        "email": u.email,
        "unit": u.unit,
        "active": u.active,
        "created_at": u.created_at,
        "has_password": bool(u.password_hash),
    }
