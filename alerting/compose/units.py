"""What a unit's information manager (信息管理员) hears about the incidents they
reported: that the report opened or joined an incident, and that it was handled.

The plan asks them to keep gathering the facts after reporting (继续搜集掌握有关真实
信息), so each notice says how to add notes and files to the incident.
"""

from __future__ import annotations

from alerting.compose.notice import incident_notice, tag
from alerting.compose.spec import MessageSpec
from core.vocabulary import MessageKind


def _keep_gathering(incident_id: int) -> list[str]:
    return [
        "如掌握新的情况，请继续报送：",
        f"补充说明：sentinel incident note {incident_id} 情况说明 --by 姓名",
        f"补充截图、照片等材料：sentinel incident attach {incident_id} --file 文件 --by 姓名",
    ]


def report_received(incident, *, user, opened: bool, report_id: int, config) -> MessageSpec:
    """The reporter's receipt: their report opened incident N, or joined it."""
    what = "已立案" if opened else "已并入已有事件"
    return incident_notice(
        key=f"unit:{incident.id}:report:{report_id}:{user.id}",
        kind=MessageKind.UNIT_NOTICE.value,
        to=[user.email],
        subject=f"{tag(incident)}{MessageKind.UNIT_NOTICE.label}：您的报案{what}：{incident.title}",
        incident=incident,
        config=config,
        heading=f"{MessageKind.UNIT_NOTICE.label}：报案{what}",
        lead=f"{user.name}（{user.unit or ''}）报送的情况{what}（事件 #{incident.id}），舆情办将及时研判处置。",
        paragraphs=_keep_gathering(incident.id),
    )


def resolved(incident, *, user, config) -> MessageSpec:
    """The incident the user reported was handled and is now followed (动态跟踪)."""
    return incident_notice(
        key=f"unit:{incident.id}:resolved:{incident.reopened_count}:{user.id}",
        kind=MessageKind.UNIT_NOTICE.value,
        to=[user.email],
        subject=f"{tag(incident)}您报送的事件已处置完毕：{incident.title}",
        incident=incident,
        config=config,
        heading="报送事件已处置完毕",
        lead=f"您报送的事件 #{incident.id} 已处置完毕，转入动态跟踪。",
        paragraphs=[
            "如发现相关帖文再次出现或有新的动向，请及时报送。",
            *_keep_gathering(incident.id)[1:],
        ],
    )
