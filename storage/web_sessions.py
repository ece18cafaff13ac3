"""Console sessions and login throttling, kept server-side.

The browser's cookie carries only a random session id; everything else (who, since
when, last seen, the CSRF token) is a row here, so logging out or an expired session is
one deleted row and nothing a client holds can be replayed after that. Failed logins
are counted per key (a name, an address) so a password cannot be guessed at speed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, User


class WebSession(Base):
    """One logged-in browser. ``id_hash`` is the SHA-256 of the cookie's id, so a copy
    of the database does not hand out live sessions."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    address: Mapped[str | None] = mapped_column(String(100))


class LoginFailure(Base):
    """Failed logins for one key (``user:NAME`` or ``ip:ADDRESS``) since ``first_at``."""

    __tablename__ = "web_login_failures"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii", "replace")).hexdigest()


def start(session: Session, user: User, now: datetime, address: str | None = None) -> str:
    """A new session for ``user``; returns the id for the cookie (shown only this once)."""
    sid = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=_hash(sid),
            user_id=user.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            seen_at=now,
            address=(address or "")[:100] or None,
        )
    )
    session.flush()
    return sid


def find(
    session: Session, sid: str | None, now: datetime, policy: SessionPolicy
) -> tuple[WebSession, User] | None:
    """The live session and its active user, its last-seen time moved to ``now``; an
    idle, too old or unknown session, or one whose user was deactivated, is None (and
    gone)."""
    if not sid or len(sid) > 200:
        return None
    row = session.get(WebSession, _hash(sid))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if (
        user is None
        or not user.active
        or now - row.seen_at > policy.idle
        or now - row.created_at > policy.absolute
    ):
        session.delete(row)
        return None
    # Write the last-seen time at most once a minute: a page view is then a read.
    if now - row.seen_at > timedelta(minutes=1):
        row.seen_at = now
    return row, user


def end(session: Session, sid: str | None) -> None:
    if sid:
        session.execute(delete(WebSession).where(WebSession.id_hash == _hash(sid)))


def end_all_of(session: Session, user: User) -> None:
    """Log a person out everywhere (a new password, a deactivated account)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def prune(session: Session, now: datetime, policy: SessionPolicy) -> int:
    """Delete sessions past their timeouts."""
    r = session.execute(
        delete(WebSession).where(
            (WebSession.seen_at < now - policy.idle)
            | (WebSession.created_at < now - policy.absolute)
        )
    )
    return r.rowcount or 0


def locked_until(
    session: Session, keys: list[str], now: datetime, policy: SessionPolicy
) -> datetime | None:
    """When the first of ``keys`` that is locked out may try again, else None."""
    rows = session.scalars(select(LoginFailure).where(LoginFailure.key.in_(keys)))
    until = [r.locked_until for r in rows if r.locked_until and r.locked_until > now]
    return max(until) if until else None


def failed(session: Session, keys: list[str], now: datetime, policy: SessionPolicy) -> None:
    """Count one failed login against each key; too many within the window lock it."""
    for key in keys:
        row = session.get(LoginFailure, key)
        if row is None or now - row.first_at > policy.failure_window:
            if row is None:
                row = LoginFailure(key=key, count=0, first_at=now)
                session.add(row)
            row.count, row.first_at, row.locked_until = 0, now, None
        row.count += 1
        if row.count >= policy.max_failures:
            row.locked_until = now + policy.lockout
    session.flush()


def succeeded(session: Session, keys: list[str]) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
