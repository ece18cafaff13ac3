"""The one-tap links mailed to people, one row per link issued.

A link's token (alerting/links) is signed; the row is what makes it usable once: the
token names the row's random ``nonce``, and ``claim`` sets ``used_at`` in one guarded
UPDATE, so two taps on the same link (a double click, a mail client that posts twice,
two devices) act once whatever the database's isolation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, User


class SignedLink(Base):
    """One link issued to one person for one action on one incident."""

    __tablename__ = "signed_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # a service.ACTIONS name: ack | approve
    # The reply version an approve link is for: a newer draft makes the link stale.
    reply_version: Mapped[int | None]
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


def add(
    session: Session,
    *,
    nonce: str,
    user: User,
    incident_id: int,
    action: str,
    reply_version: int | None,
    issued_at: datetime,
    expires_at: datetime,
) -> SignedLink:
    link = SignedLink(
        nonce=nonce,
        user_id=user.id,
        incident_id=incident_id,
        action=action,
        reply_version=reply_version,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link


def by_nonce(session: Session, nonce: str) -> SignedLink | None:
    return session.scalar(select(SignedLink).where(SignedLink.nonce == nonce))


def claim(session: Session, link: SignedLink, now: datetime) -> bool:
    """Mark the link used, once: True for the one caller that did it."""
    res = session.execute(
        update(SignedLink)
        .where(SignedLink.id == link.id, SignedLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 1:
        link.used_at = now
        return True
    return False
