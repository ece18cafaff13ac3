"""People managed from the console by the office: add a person, set a password,
deactivate or reactivate. The same functions as ``sentinel user …`` underneath (which
end the person's console sessions on a new password or a deactivation), with the check
that the one doing it is active office staff."""

from __future__ import annotations

from sqlalchemy.orm import Session

from alerting.incidents import roles, users
from storage.models import User


def add(
    session: Session,
    by: str | User,
    name: str,
    *,
    role: str,
    email: str | None,
    unit: str | None,
    password: str | None = None,
) -> User:
    roles.require(session, by, "管理用户", roles=roles.OFFICE)
    u = users.add(session, name, role=role, email=email or None, unit=unit)
    if password:
        users.set_password(session, u.name, password)
    return u


def set_password(session: Session, by: str | User, name: str, password: str) -> User:
    roles.require(session, by, "管理用户", roles=roles.OFFICE)
    return users.set_password(session, name, password)


def set_active(session: Session, by: str | User, name: str, active: bool) -> User:
    me = roles.require(session, by, "管理用户", roles=roles.OFFICE)
    if not active and me.name == name:
        raise users.UserError("不能停用自己的账号")
    return users.update(session, name, active=active)
