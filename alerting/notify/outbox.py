"""The outbox: every notification is rendered once, stored, then sent — once.

``queue`` renders a composed message (``alerting.compose``) and stores one copy per
channel that serves its groups, in the caller's transaction, so it commits together
with the incident that caused it; the same key twice stores nothing. ``drain`` claims
due copies and sends each through its channel. States::

    grouping → pending → sending → sent
                  ↑          │
                retry  ←─────┤  (temporary failure, exponential backoff)
                             └→ failed   (permanent failure, or retried for too long)
    silenced: stored for the record, never sent

A process killed after the server accepted a message but before the mark leaves it
``sending``; after ``send_lease`` it is sent again with the same bytes and the same
Message-ID, so a mail client shows it once (at-least-once; see docs/notifications.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerting.compose.render import render
from alerting.compose.spec import MessageSpec
from alerting.compose.text import clean_line
from alerting.links.mail import personal_copies
from alerting.notify import email as mail
from alerting.notify import incident_alerts
from alerting.notify.channels import DeliveryError, Draft, NotConfigured, channel_types
from alerting.notify.channels.base import PersonalCopy
from alerting.notify.routing import SilenceSet, quiet_until
from alerting.notify.settings import NotifySettings, settings_of
from core.vocabulary import DUE_OUTBOX, OutboxStatus
from storage.models import OutboxMessage
from storage.types import utcnow

log = logging.getLogger("sentinel.notify")

DUE_STATES = tuple(s.value for s in DUE_OUTBOX)


class Outbox:
    """Store, claim, retry and send notifications. Safe to use from several threads and
    from several processes on one database: a message is claimed before it is sent."""

    def __init__(self, db, config, now: Callable[[], datetime] = utcnow):
        self.db = db
        self.config = config
        self.now = now
        # Told of each delivery attempt: (channel, "sent" | "retry" | "failed" | "deferred").
        self.on_delivery: Callable[[str, str], None] | None = None

    @property
    def settings(self) -> NotifySettings:
        return settings_of(self.config)

    # -- storing ----------------------------------------------------------------------
    def queued(self, session: Session, key: str) -> bool:
        """Whether a message with this key is already stored (sent or not)."""
        return (
            session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key).limit(1))
            is not None
        )

    def queue(self, session: Session, spec: MessageSpec) -> OutboxMessage | None:
        """Render ``spec`` once and store a copy for every channel that serves its groups.
        A key already stored stores nothing new and returns None. With ``spec.repeat`` the
        key names a family: a new one is stored only when none of the family was queued
        within ``repeat_interval``. Returns the copy stored under the key itself, else
        the first copy stored (None when no channel serves the groups)."""
        now = self.now()
        key = spec.key
        if spec.repeat:
            since = now - timedelta(seconds=self.settings.repeat_interval)
            recent = session.scalar(
                select(OutboxMessage.id)
                .where(OutboxMessage.key.like(_like_prefix(key) + "@%", escape="\\"))
                .where(OutboxMessage.created_at > since)
                .limit(1)
            )
            if recent is not None:
                return None
            key = f"{key}@{now.strftime('%Y%m%dT%H%M%S')}"
        if self.queued(session, key):
            return None
        return self._store(session, spec, key, now)

    def hold(
        self, session: Session, *, key: str, kind: str, incident_id: int | None, until: datetime
    ) -> OutboxMessage:
        """A placeholder (status ``grouping``) for a message whose content is still being
        gathered: it keeps the key until ``seal`` replaces it with the composed message."""
        msg = OutboxMessage(
            key=key,
            kind=kind,
            channel="",
            recipients=[],
            subject="",
            message_id=mail.message_id_for(key, mail.id_domain(self.config)),
            body=b"",
            incident_id=incident_id,
            created_at=self.now(),
            not_before=until,
            status="grouping",
            next_attempt_at=None,
        )
        session.add(msg)
        session.flush()
        return msg

    def seal(
        self, session: Session, placeholder: OutboxMessage, spec: MessageSpec
    ) -> OutboxMessage | None:
        """Replace a ``grouping`` placeholder by the message composed for it (``spec`` has
        the placeholder's key). Once only: a second sealer finds nothing to replace."""
        key = placeholder.key
        gone = session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.id == placeholder.id, OutboxMessage.status == "grouping"
            )
        )
        if gone.rowcount != 1:
            return None
        return self._store(session, spec, key, self.now())

    def _store(
        self, session: Session, spec: MessageSpec, key: str, now: datetime
    ) -> OutboxMessage | None:
        silences = SilenceSet.load(session, now)
        silenced = (
            spec.silenced or silences.incident(spec.incident_id) or silences.source(spec.source)
        )
        not_before = spec.not_before
        held = quiet_until(self.settings.quiet_hours, spec.severity, now, self.config.tz)
        if held is not None and (not_before is None or held > not_before):
            not_before = held
        html, text = render(spec.template, spec.context)
        personal: tuple[PersonalCopy, ...] = ()
        if spec.link is not None and not silenced:
            personal = tuple(
                PersonalCopy(p.address, *render(spec.template, {**spec.context, **p.context}))
                for p in personal_copies(session, self.config, spec, now)
            )
        domain = mail.id_domain(self.config)
        if spec.root and spec.incident_id is not None:
            message_id = mail.thread_id_for(spec.incident_id, domain)
        else:
            message_id = mail.message_id_for(key, domain)
        thread: tuple[str, ...] = ()
        if spec.incident_id is not None:
            root = mail.thread_id_for(spec.incident_id, domain)
            thread = (root,) if root != message_id else ()
        draft = Draft(
            key=key,
            kind=spec.kind,
            groups=spec.to,
            subject=clean_line(spec.subject, 200),
            html=html,
            text=text,
            message_id=message_id,
            thread=thread,
            date=now.astimezone(self.config.tz),
            incident_id=spec.incident_id,
            personal=personal,
        )
        copies = [
            (kind, d)
            for kind, cls in channel_types().items()
            for d in cls.deliveries(self.config, draft)
        ]
        copies.sort(key=lambda c: c[1].suffix != "")  # the message's own key first
        stored: list[OutboxMessage] = []
        for kind, d in copies:
            copy_key = f"{key}#{d.suffix}" if d.suffix else key
            msg = OutboxMessage(
                key=copy_key,
                kind=spec.kind,
                channel=kind,
                recipients=list(d.recipients),
                subject=draft.subject,
                message_id=mail.message_id_for(copy_key, domain) if d.suffix else message_id,
                body=d.body,
                incident_id=spec.incident_id,
                created_at=now,
                not_before=not_before,
                status="silenced" if silenced else "pending",
                next_attempt_at=not_before,
            )
            try:
                with session.begin_nested():
                    session.add(msg)
            except IntegrityError:  # queued meanwhile by another process: same key, nothing new
                if not d.suffix:
                    return None
                continue
            stored.append(msg)
        return stored[0] if stored else None

    # -- sending --------------------------------------------------------------------------
    def _backoff(self, msg_id: int, attempts: int) -> float:
        s = self.settings
        delay = min(s.retry_max, s.retry_base * (2 ** max(0, attempts - 1)))
        return delay * (1 + ((msg_id * 2654435761) % 100) / 1000)  # ≤10% spread, stable per message

    def due_ids(self, limit: int | None = None) -> list[int]:
        now = self.now()
        with self.db.session() as s:
            q = (
                select(OutboxMessage.id)
                .where(OutboxMessage.status.in_(DUE_STATES))
                .where(
                    or_(
                        OutboxMessage.next_attempt_at.is_(None),
                        OutboxMessage.next_attempt_at <= now,
                    )
                )
                .order_by(OutboxMessage.id)
            )
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def _claim(self, msg_id: int) -> OutboxMessage | None:
        """Mark a due message ``sending`` (with a lease) so that no other drain sends it."""
        now = self.now()
        lease = now + timedelta(seconds=self.settings.send_lease)
        with self.db.session() as s:
            res = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == msg_id, OutboxMessage.status.in_(DUE_STATES))
                .where(
                    or_(
                        OutboxMessage.next_attempt_at.is_(None),
                        OutboxMessage.next_attempt_at <= now,
                    )
                )
                .values(
                    status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=lease
                )
            )
            if res.rowcount != 1:
                return None
            return s.get(OutboxMessage, msg_id)

    def drain(self, limit: int | None = None) -> dict[str, int]:
        """Seal the follow-up groups whose window has passed, then send every due message
        once. Returns counts: sent, failed (permanently), retry (will be tried again),
        deferred (channel down or not configured)."""
        incident_alerts.flush_groups(self)
        stats = {"sent": 0, "failed": 0, "retry": 0, "deferred": 0}
        channels: dict[str, Any] = {}
        down: set[str] = set()
        types = channel_types()
        try:
            for msg_id in self.due_ids(limit):
                with self.db.session() as s:
                    kind = s.scalar(select(OutboxMessage.channel).where(OutboxMessage.id == msg_id))
                if kind in down:
                    stats["deferred"] += 1
                    continue
                msg = self._claim(msg_id)
                if msg is None:
                    continue
                if kind not in channels:
                    cls = types.get(kind)
                    channels[kind] = cls(self.config, cls.settings_of(self.config)) if cls else None
                channel = channels[kind]
                try:
                    if channel is None:
                        raise NotConfigured(f"未知的发送渠道 {kind}")
                    note = channel.send(msg)
                except DeliveryError as e:
                    if e.unreachable:
                        down.add(kind)
                    outcome = self._failed(msg, e)
                    stats[outcome] += 1
                    self._told(kind, outcome)
                    log.warning(
                        "发送消息 #%s 失败（%s）：%s", msg.id, OutboxStatus.label_of(outcome), e
                    )
                except Exception as e:  # a bug in a channel must not lose the message
                    log.exception("发送消息 #%s 时出错", msg.id)
                    outcome = self._failed(msg, DeliveryError(f"{type(e).__name__}: {e}"))
                    stats[outcome] += 1
                    self._told(kind, outcome)
                else:
                    self._sent(msg, note)
                    stats["sent"] += 1
                    self._told(kind, "sent")
        finally:
            for ch in channels.values():
                if ch is not None:
                    ch.close()
        return stats

    def _told(self, channel: str, outcome: str) -> None:
        if self.on_delivery is not None:
            self.on_delivery(channel, outcome)

    def _sent(self, msg: OutboxMessage, note: str | None) -> None:
        with self.db.session() as s:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == msg.id)
                .values(status="sent", sent_at=self.now(), next_attempt_at=None, last_error=note)
            )

    def _failed(self, msg: OutboxMessage, err: DeliveryError) -> str:
        now = self.now()
        s_ = self.settings
        if err.permanent:
            status, nxt, outcome = "failed", None, "failed"
        elif isinstance(err, NotConfigured):
            # Not an attempt: the message waits for configuration, checked again later.
            status, nxt, outcome = "pending", now + timedelta(seconds=s_.retry_base), "deferred"
        elif (
            msg.created_at is not None and (now - msg.created_at).total_seconds() > s_.give_up_after
        ):
            status, nxt, outcome = "failed", None, "failed"
            err = DeliveryError(f"重试超过 {s_.give_up_after / 3600:g} 小时仍失败，已放弃：{err}")
        else:
            status, nxt, outcome = (
                "retry",
                now + timedelta(seconds=self._backoff(msg.id, msg.attempts)),
                "retry",
            )
        values: dict[str, Any] = {
            "status": status,
            "next_attempt_at": nxt,
            "last_error": str(err)[:2000],
        }
        if isinstance(err, NotConfigured):
            values["attempts"] = OutboxMessage.attempts - 1
        with self.db.session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id).values(**values))
        return outcome

    # -- inspection -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counts by status and the permanent failures (for ``sentinel status``)."""
        with self.db.session() as s:
            counts = dict(
                s.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
            failed = s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == "failed")
                .order_by(OutboxMessage.id.desc())
                .limit(20)
            ).all()
            oldest = s.scalar(
                select(func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status.in_(DUE_STATES)
                )
            )
        out: dict[str, Any] = {
            k: int(counts.get(k, 0))
            for k in ("pending", "grouping", "retry", "sending", "sent", "failed", "silenced")
        }
        out["oldest_unsent_at"] = oldest
        out["failures"] = [
            f"#{m.id} {m.subject[:60]} → {', '.join(map(str, m.recipients or []))}：{m.last_error or ''}"
            for m in failed
        ]
        return out

    def retry(self, msg_id: int) -> bool:
        """Put a failed message back in the queue (``sentinel outbox retry ID``)."""
        with self.db.session() as s:
            res = s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == msg_id, OutboxMessage.status.in_(("failed", "retry")))
                .values(status="pending", next_attempt_at=None, created_at=self.now())
            )
            return res.rowcount == 1


def _like_prefix(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
