"""The reply (统一回复) on its way to the leaders and back.

The plan: the responsible department drafts the reply, and it is given only after the
college's leaders and the leading group have approved it (经学院主要领导和应急处置工作
领导小组审定后统一回复). ``approval_request`` carries the draft's text to the leaders;
``decision`` tells the drafter and the office what the leader decided.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting.compose.notice import incident_notice, tag
from alerting.compose.spec import LinkRequest, MessageSpec
from core.times import office_time
from core.vocabulary import MessageKind, ReplyState


def approval_request(
    incident,
    reply,
    *,
    to: Sequence[str],
    config,
) -> MessageSpec:
    """The draft ``reply`` (version N) for the leaders to approve or send back. Each
    leader's own copy carries a one-tap approval link for this version (not the
    drafter's: nobody approves their own reply)."""
    return incident_notice(
        key=f"reply:{incident.id}:{reply.version}:submitted",
        kind=MessageKind.REPLY_APPROVAL.value,
        to=to,
        subject=f"{tag(incident)}{MessageKind.REPLY_APPROVAL.label}（第{reply.version}稿）：{incident.title}",
        incident=incident,
        config=config,
        heading="网上答复稿，请审定",
        lead="以下答复须经学院主要领导和应急处置工作领导小组审定后统一回复。",
        facts=[
            ("答复稿", f"第{reply.version}稿"),
            ("起草人", reply.drafted_by),
            ("送审时间", office_time(reply.submitted_at or reply.drafted_at, config.tz)),
        ],
        paragraphs=[
            "答复内容：",
            reply.text,
            f"审定通过：sentinel incident approve {incident.id} --by 姓名（可加 --note 意见）",
            f"退回修改：sentinel incident reject {incident.id} --by 姓名 --note 修改意见",
        ],
        link=LinkRequest("approve", version=reply.version, exclude=(reply.drafted_by,)),
    )


def decision(incident, reply, *, to: Sequence[str], config) -> MessageSpec:
    """A leader approved ``reply`` or sent it back: the drafter and the office are told."""
    approved = reply.state == ReplyState.APPROVED
    said = f"审定意见：{reply.decision_note}" if reply.decision_note else ""
    if approved:
        heading = "答复已审定，可以发布"
        lead = f"第{reply.version}稿答复已由 {reply.decided_by} 于 {office_time(reply.decided_at, config.tz)} 审定通过。"
        todo = f"发布后请登记：sentinel incident publish {incident.id} --by 姓名 --url 答复所在网址"
    else:
        heading = "答复被退回修改"
        lead = f"第{reply.version}稿答复被 {reply.decided_by} 于 {office_time(reply.decided_at, config.tz)} 退回。"
        todo = (
            f"修改后重新送审：sentinel incident reply {incident.id} --text 新的答复内容 --by 姓名"
        )
    return incident_notice(
        key=f"reply:{incident.id}:{reply.version}:{reply.state}",
        kind=MessageKind.REPLY_DECISION.value,
        to=to,
        subject=f"{tag(incident)}{heading}（第{reply.version}稿）：{incident.title}",
        incident=incident,
        config=config,
        heading=heading,
        lead=lead,
        facts=[("答复稿", f"第{reply.version}稿"), ("状态", ReplyState.label_of(reply.state))],
        paragraphs=[said, "答复内容：", reply.text, todo],
    )
