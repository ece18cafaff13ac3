"""The outbox: every notification is rendered once, stored, then sent — once.

A message is built and stored (with its Message-ID and idempotency key) in the caller's
transaction, so it commits together with the incident that caused it. ``drain`` sends
due messages through their channel. States::

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

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerting.notify import email as mail
from alerting.notify.channels import DeliveryError, NotConfigured, channel_types
from alerting.notify.render import GUIDANCE, join_url, local_time, post_view, render
from alerting.notify.routing import SilenceSet, quiet_until, recipients_for
from alerting.notify.settings import NotifySettings, settings_of
from core.vocabulary import DUE_OUTBOX, Category, IncidentStatus, OutboxStatus, Severity
from storage.models import Incident, IncidentPost, Match, OutboxMessage, Post
from storage.types import utcnow

log = logging.getLogger("sentinel.notify")

DUE_STATES = tuple(s.value for s in DUE_OUTBOX)


class Outbox:
    """Queue, group and send notifications. Safe to use from several threads and from
    several processes on one database: a message is claimed before it is sent."""

    def __init__(self, db, config, now: Callable[[], datetime] = utcnow):
        self.db = db
        self.config = config
        self.now = now

    @property
    def settings(self) -> NotifySettings:
        return settings_of(self.config)

    @property
    def domain(self) -> str:
        return mail.mail_domain(self.config.smtp.from_ if self.config.smtp else None)

    # -- views ------------------------------------------------------------------------
    def incident_view(self, incident: Incident) -> dict[str, Any]:
        terms = [mail.clean_line(t, 30) for t in (incident.terms or []) if isinstance(t, str)]
        return {
            "id": incident.id,
            "title": mail.clean_line(incident.title, 120) or f"事件 #{incident.id}",
            "severity": Severity.label_of(incident.severity),
            "category": Category.label_of(incident.category),
            "opened_at": local_time(incident.opened_at, self.config.tz),
            "status": IncidentStatus.label_of(incident.status),
            "post_count": incident.post_count,
            "site_count": incident.site_count,
            "terms": [t for t in terms if t][:12],
            "console_url": join_url(self.config.console_url, f"incidents/{incident.id}"),
        }

    def post_views(self, posts: list[tuple[Post, Match | None]], *, masked: bool | None = None):
        """(views of at most max_posts_per_mail posts, how many more were left out)."""
        s = self.settings
        masked = s.mask_alerts if masked is None else masked
        shown = posts[: s.max_posts_per_mail]
        views = [
            post_view(p, m, tz=self.config.tz, console_url=self.config.console_url, masked=masked)
            for p, m in shown
        ]
        return views, len(posts) - len(shown)

    # -- queueing ---------------------------------------------------------------------
    def enqueue(
        self,
        session: Session,
        *,
        key: str,
        kind: str,
        to: list[str],
        subject: str,
        template: str,
        context: dict[str, Any],
        incident: Incident | None = None,
        severity: str | None = None,
        category: str | None = None,
        not_before: datetime | None = None,
        source: str | None = None,
        repeat: bool = False,
        masked: bool | None = None,
    ) -> OutboxMessage | None:
        """Render and store one message (plus one chat message per webhook of its groups).
        The same ``key`` twice stores nothing new and returns None. With ``repeat=True``,
        ``key`` names a family (e.g. ``reminder:incident:7``) and a new message is stored
        only when none of that family was queued within ``repeat_interval``."""
        now = self.now()
        if repeat:
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
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
            return None
        severity = severity or (incident.severity if incident is not None else None)
        category = category or (incident.category if incident is not None else None)
        silences = SilenceSet.load(session, now)
        silenced = silences.incident(incident.id if incident is not None else None) or silences.source(source)
        ctx = dict(context)
        if incident is not None and "incident" not in ctx:
            ctx["incident"] = self.incident_view(incident)
        raw_posts = ctx.get("posts")
        if raw_posts and isinstance(raw_posts[0], tuple):
            ctx["posts"], ctx["more"] = self.post_views(list(raw_posts), masked=masked)
        return self._store(
            session, key=key, kind=kind, to=to, subject=subject, template=template, context=ctx,
            incident=incident, severity=severity, not_before=not_before,
            status="silenced" if silenced else "pending",
            thread_root=incident is not None,
        )

    def _store(
        self, session: Session, *, key: str, kind: str, to: list[str], subject: str, template: str,
        context: dict[str, Any], incident: Incident | None, severity: str | None,
        not_before: datetime | None, status: str, thread_root: bool, message_id: str | None = None,
        existing: OutboxMessage | None = None, rendered: tuple[str, str] | None = None,
    ) -> OutboxMessage | None:
        now = self.now()
        held = quiet_until(self.settings.quiet_hours, severity, now, self.config.tz)
        if held is not None and (not_before is None or held > not_before):
            not_before = held
        subject = mail.clean_line(subject, 200)
        html, text = rendered if rendered is not None else render(template, context)
        domain = self.domain
        message_id = message_id or mail.message_id_for(key, domain)
        thread = None
        if thread_root and incident is not None:
            root = mail.thread_id_for(incident.id, domain)
            thread = [root] if root != message_id else None
        smtp = self.config.smtp
        body = mail.build(
            from_=smtp.from_ if smtp else None,
            to=self.config.addresses(to),
            subject=subject,
            html=html,
            text=text,
            message_id=message_id,
            date=now.astimezone(self.config.tz),
            thread=thread,
            extra_headers={"X-Sentinel-Kind": kind, **({"X-Sentinel-Incident": str(incident.id)} if incident else {})},
        )
        fields = dict(
            key=key, kind=kind, channel="email", recipients=self.config.addresses(to), subject=subject,
            message_id=message_id, body=body, incident_id=incident.id if incident is not None else None,
            created_at=now, not_before=not_before, status=status, next_attempt_at=not_before,
        )
        if existing is not None:  # a group being sealed: fill in the placeholder
            for k, v in fields.items():
                setattr(existing, k, v)
            msg = existing
        else:
            msg = OutboxMessage(**fields)
            try:
                with session.begin_nested():
                    session.add(msg)
            except IntegrityError:  # queued meanwhile by another process: same key, nothing new
                return None
        for group in to:
            for i, _url in enumerate(self.settings.channels.get(group, [])):
                chat_key = f"{key}#chat:{group}:{i}"
                payload = {"title": subject, "body": text, "url_index": i}
                chat = OutboxMessage(
                    key=chat_key, kind=kind, channel="chat", recipients=[group], subject=subject,
                    message_id=mail.message_id_for(chat_key, domain),
                    body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                    incident_id=fields["incident_id"], created_at=now, not_before=not_before,
                    status=status, next_attempt_at=not_before,
                )
                try:
                    with session.begin_nested():
                        session.add(chat)
                except IntegrityError:
                    pass
        return msg

    def enqueue_rendered(
        self, session: Session, *, key: str, kind: str, to: list[str], subject: str, html: str, text: str
    ) -> OutboxMessage | None:
        """Store a message whose HTML and text are already rendered (a digest)."""
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
            return None
        return self._store(
            session, key=key, kind=kind, to=to, subject=subject, template="", context={}, incident=None,
            severity=None, not_before=None, status="pending", thread_root=False, rendered=(html, text),
        )

    # -- incidents ----------------------------------------------------------------------
    def _units(self, incident: Incident, posts: list[tuple[Post, Match | None]]) -> set[str]:
        units: set[str] = set()
        for _p, m in posts:
            for e in (m.entities if m is not None else None) or []:
                units.add(e if isinstance(e, str) else str(e.get("name", "")) if isinstance(e, dict) else "")
        if incident.assignee is not None and incident.assignee.unit:
            units.add(incident.assignee.unit)
        return units

    def _groups(self, incident: Incident, posts) -> list[str]:
        return recipients_for(
            self.settings, severity=incident.severity, category=incident.category,
            units=self._units(incident, posts),
        )

    def _subject(self, tag: str, incident: Incident, suffix: str = "") -> str:
        title = mail.clean_line(incident.title, 60) or f"事件 #{incident.id}"
        parts = [f"【{tag}】", f"【{Severity.label_of(incident.severity)}】"]
        if incident.category:
            parts.append(f"【{Category.label_of(incident.category)}】")
        return "".join(parts) + title + suffix

    def incident_opened(
        self, session: Session, incident: Incident, posts: list[tuple[Post, Match]]
    ) -> OutboxMessage | None:
        """The first alert of a new incident: queued to go out at once (no group wait)."""
        session.flush()
        key = f"incident:{incident.id}:opened"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
            return None
        now = self.now()
        silences = SilenceSet.load(session, now)
        loud = [(p, m) for p, m in posts if not silences.post(p, m)]
        silenced = silences.incident(incident.id) or not loud
        self._mark_notified(session, incident.id, [p.id for p, _ in posts])
        views, more = self.post_views(loud or list(posts))
        context = {
            "heading": "舆情预警",
            "lead": "监测发现一起涉及我校的网络舆情，请及时研判处置。",
            "incident": self.incident_view(incident),
            "guidance": GUIDANCE.get(incident.category or "", ""),
            "posts": views,
            "more": more,
            "posts_heading": "首发帖子" if len(views) == 1 else "相关帖子",
        }
        return self._store(
            session, key=key, kind="new_incident", to=self._groups(incident, posts),
            subject=self._subject("舆情预警", incident), template="incident", context=context,
            incident=incident, severity=incident.severity, not_before=None,
            status="silenced" if silenced else "pending", thread_root=True,
            message_id=mail.thread_id_for(incident.id, self.domain),
        )

    def incident_updated(
        self, session: Session, incident: Incident, new_posts: list[tuple[Post, Match]]
    ) -> OutboxMessage | None:
        """Posts joined an incident that was already announced. They are gathered for
        ``group_window`` and then go out as ONE follow-up mail. Returns the group's
        message (status ``grouping`` while the window is open), or None."""
        session.flush()
        now = self.now()
        group = session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.incident_id == incident.id, OutboxMessage.status == "grouping"
            )
        )
        if group is None:
            pending = self._pending_posts(session, incident.id)
            ids = sorted({p.id for p, _ in pending} | {p.id for p, _ in new_posts})
            if not ids:
                return None
            key = f"incident:{incident.id}:update:{ids[0]}"
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
                return None
            group = OutboxMessage(
                key=key, kind="incident_update", channel="email", recipients=[], subject="",
                message_id=mail.message_id_for(key, self.domain), body=b"", incident_id=incident.id,
                created_at=now, not_before=now + timedelta(seconds=self.settings.group_window),
                status="grouping", next_attempt_at=None,
            )
            session.add(group)
            session.flush()
        if group.not_before is None or group.not_before <= now:
            return self._seal(session, group, extra=new_posts)
        return group

    def _pending_posts(self, session: Session, incident_id: int) -> list[tuple[Post, Match | None]]:
        rows = session.execute(
            select(Post, Match)
            .join(IncidentPost, IncidentPost.post_id == Post.id)
            .outerjoin(Match, Match.post_id == Post.id)
            .where(IncidentPost.incident_id == incident_id, IncidentPost.notified.is_(False))
            .order_by(Post.id)
        ).all()
        return [(p, m) for p, m in rows]

    def posts_notified(self, session: Session, incident: Incident, post_ids: list[int]) -> None:
        """Posts another message already reported (a secondary-crisis alert, say) are not
        listed again in the incident's next follow-up mail."""
        self._mark_notified(session, incident.id, post_ids)

    def _mark_notified(self, session: Session, incident_id: int, post_ids: list[int]) -> None:
        if post_ids:
            session.execute(
                update(IncidentPost)
                .where(IncidentPost.incident_id == incident_id, IncidentPost.post_id.in_(post_ids))
                .values(notified=True)
            )

    def _seal(self, session: Session, group: OutboxMessage, extra=()) -> OutboxMessage | None:
        """Close a group: render the follow-up with every post gathered in its window."""
        incident = session.get(Incident, group.incident_id)
        posts = {p.id: (p, m) for p, m in self._pending_posts(session, incident.id)}
        for p, m in extra:
            posts.setdefault(p.id, (p, m))
        ordered = [posts[k] for k in sorted(posts)]
        self._mark_notified(session, incident.id, list(posts))
        silences = SilenceSet.load(session, self.now())
        loud = [(p, m) for p, m in ordered if not silences.post(p, m)]
        silenced = silences.incident(incident.id) or not loud
        views, more = self.post_views(loud or ordered)
        n = len(loud) if loud else len(ordered)
        context = {
            "heading": "舆情续报",
            "lead": f"事件 #{incident.id} 新增相关帖子 {n} 条，请关注事态发展。",
            "incident": self.incident_view(incident),
            "guidance": GUIDANCE.get(incident.category or "", ""),
            "posts": views,
            "more": more,
            "posts_heading": "新增帖子",
        }
        return self._store(
            session, key=group.key, kind="incident_update", to=self._groups(incident, ordered),
            subject=self._subject("舆情续报", incident, f"（新增 {n} 条）"), template="incident",
            context=context, incident=incident, severity=incident.severity, not_before=None,
            status="silenced" if silenced else "pending", thread_root=True,
            message_id=group.message_id, existing=group,
        )

    def flush_groups(self) -> int:
        """Seal every group whose window has passed (called by ``drain``)."""
        now = self.now()
        with self.db.session() as s:
            ids = s.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == "grouping", OutboxMessage.not_before <= now
                )
            ).all()
        for mid in ids:
            with self.db.session() as s:
                group = s.get(OutboxMessage, mid)
                if group is not None and group.status == "grouping":
                    self._seal(s, group)
        return len(ids)

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
                .where(or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
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
                .where(or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
                .values(status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=lease)
            )
            if res.rowcount != 1:
                return None
            return s.get(OutboxMessage, msg_id)

    def drain(self, limit: int | None = None) -> dict[str, int]:
        """Send every due message once. Returns counts: sent, failed (permanently),
        retry (will be tried again), deferred (channel down or not configured)."""
        self.flush_groups()
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
                    channels[kind] = cls(self.config, self.settings) if cls else None
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
                    log.warning("发送消息 #%s 失败（%s）：%s", msg.id,
                                OutboxStatus.label_of(outcome), e)
                except Exception as e:  # a bug in a channel must not lose the message
                    log.exception("发送消息 #%s 时出错", msg.id)
                    stats[self._failed(msg, DeliveryError(f"{type(e).__name__}: {e}"))] += 1
                else:
                    self._sent(msg, note)
                    stats["sent"] += 1
        finally:
            for ch in channels.values():
                if ch is not None:
                    ch.close()
        return stats

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
        elif msg.created_at is not None and (now - msg.created_at).total_seconds() > s_.give_up_after:
            status, nxt, outcome = "failed", None, "failed"
            err = DeliveryError(f"重试超过 {s_.give_up_after / 3600:g} 小时仍失败，已放弃：{err}")
        else:
            status, nxt, outcome = "retry", now + timedelta(seconds=self._backoff(msg.id, msg.attempts)), "retry"
        values: dict[str, Any] = {"status": status, "next_attempt_at": nxt, "last_error": str(err)[:2000]}
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
                s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
            )
            failed = s.scalars(
                select(OutboxMessage).where(OutboxMessage.status == "failed").order_by(OutboxMessage.id.desc()).limit(20)
            ).all()
            oldest = s.scalar(
                select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(DUE_STATES))
            )
        out: dict[str, Any] = {k: int(counts.get(k, 0)) for k in
                               ("pending", "grouping", "retry", "sending", "sent", "failed", "silenced")}
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
