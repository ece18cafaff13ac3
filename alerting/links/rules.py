"""Whether a person may still do what a link of theirs offers: the domain's own checks
(``roles``), asked before a link is mailed and again when it is opened and used."""

from __future__ import annotations

from alerting.incidents import replies, roles
from alerting.incidents.escalation import sent_levels
from alerting.incidents.users import UserError
from alerting.incidents.workflow import WorkflowError
from core.times import office_time
from core.vocabulary import LinkRefusal, ReplyState
from storage.models import Incident, User


class LinkRefused(WorkflowError):
    """A link that does not act, with the reason (``LinkRefusal``) and a sentence."""

    def __init__(self, reason: LinkRefusal, detail: str):
        self.reason = reason
        self.detail = detail.rstrip("。；，")  # a sentence the page ends itself
        super().__init__(f"{reason.label}：{self.detail}" if detail else reason.label)

    @property
    def status(self) -> int:
        """The HTTP status of the refusal page."""
        return int(self.reason.rank)


def check(
    session, config, incident: Incident, user: User, action: str, version: int | None
) -> None:
    """Raise ``LinkRefused`` unless ``user`` may do ``action`` on ``incident`` now."""
    try:
        if action == "ack":
            levels = sent_levels(session, incident)
            roles.acknowledger(session, incident, user, levels, config)
            if incident.acknowledged_at is not None and all(e.acked_at for e in levels):
                when = office_time(incident.acknowledged_at, config.tz)
                raise LinkRefused(
                    LinkRefusal.STALE,
                    f"事件 #{incident.id} 的报告已由 {incident.acknowledged_by} 于 {when} 确认收到，无需再确认",
                )
            return
        roles.require(session, user, "审定答复", incident, roles=roles.LEADERS)
    except (roles.RoleError, UserError) as e:
        raise LinkRefused(LinkRefusal.NOT_ALLOWED, str(e)) from None
    if incident.status == "closed":
        raise LinkRefused(LinkRefusal.STALE, f"事件 #{incident.id} 已结案")
    reply = replies.latest(session, incident)
    if reply is None or reply.version != version:
        newer = f"现已有第{reply.version}稿" if reply is not None else "该答复稿已不存在"
        raise LinkRefused(LinkRefusal.STALE, f"此链接用于审定第{version}稿答复，{newer}")
    if reply.state != ReplyState.PENDING.value:
        by = f"（{reply.decided_by}）" if reply.decided_by else ""
        raise LinkRefused(
            LinkRefusal.STALE,
            f"第{reply.version}稿答复{ReplyState.label_of(reply.state)}{by}，无需再审定",
        )
    if reply.drafted_by == user.name:
        raise LinkRefused(LinkRefusal.NOT_ALLOWED, f"{user.name}不能审定自己起草的答复")
