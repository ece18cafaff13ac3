"""What each action of the table (``alerting.incidents.service``) takes: pydantic models
whose field descriptions are the help text the office reads (the CLI's options, the
console's forms), and ``explain``, which says a value that does not fit in the office's
words, naming the option as it is typed (``--at``), never pydantic's English."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting.incidents import files
from core.vocabulary import CategoryKey, SeverityKey
from core.yamlpos import kind_words


class Values(BaseModel):
    """What every action takes: who does it (recorded in the log)."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(description="操作人（须为已登记的在岗用户，记入处置记录）")


class WithNote(Values):
    note: str | None = Field(None, description="备注（记入处置记录）")


class AssessValues(WithNote):
    cause: str | None = Field(None, description="原因")
    state: str | None = Field(None, description="现状")
    development: str | None = Field(None, description="可能的发展趋势")
    scope: str | None = Field(None, description="影响范围（不填则用系统测算）")
    measures: str | None = Field(None, description="处置措施（不填则用预案建议）")
    severity: SeverityKey | None = Field(None, description="危害程度")
    category: CategoryKey | None = Field(None, description="性质类别")


class EscalateValues(WithNote):
    to: list[str] = Field(
        default_factory=list,
        description="改为报告这些组或地址（可多次给出）；不填则按规则报告下一级",
    )


class AssignValues(Values):
    name: str = Field(description="负责人姓名", json_schema_extra={"argument": True})


class ClassifyValues(WithNote):
    category: CategoryKey = Field(description="性质类别", json_schema_extra={"argument": True})
    severity: SeverityKey | None = Field(None, description="危害程度")


class CheckValues(WithNote):
    item: str = Field(description="事项（编号、代号或名称）", json_schema_extra={"argument": True})
    undo: bool = Field(False, description="撤销“已完成”")


class NoteValues(Values):
    text: str = Field(description="备注内容", json_schema_extra={"argument": True})


class ResolveValues(WithNote):
    tracker: str | None = Field(None, description="动态跟踪人（默认为负责人）")
    force: bool = Field(False, description="仍有未完成事项时也转入跟踪（请在备注中说明原因）")


class CloseValues(Values):
    note: str = Field(description="总结评估意见（必填）")


class ReplyValues(Values):
    text: str = Field(description="答复内容（新稿取代旧稿，旧稿保留在处置记录中）")
    hold: bool = Field(False, description="只保存草稿，暂不送领导审定（之后用 submit 送审）")


class RejectValues(Values):
    note: str = Field(description="修改意见（必填）")


class PublishValues(WithNote):
    url: str | None = Field(None, description="答复发布的网址")


class MeetingValues(Values):
    at: datetime = Field(description="召开时间，如 2026-11-25 15:00（按配置的时区）")
    place: str = Field(description="地点")
    attendees: str = Field(description="参加人员")
    questions: str = Field(description="提出的问题")
    answers: str = Field(description="作出的解答")


class AttachValues(WithNote):
    file: list[files.Upload] = Field(
        description="文件：截图、照片、PDF 或文本（可多次给出）", json_schema_extra={"file": True}
    )


class UnitValues(Values):
    unit: str = Field(
        description="单位名称（与单位信息管理员的 --unit 一致）",
        json_schema_extra={"argument": True},
    )


def explain(title: str, values: type[Values], error: ValidationError) -> str:
    """One sentence for the first thing wrong in ``error``: the action's ``title``, the
    option as typed and its meaning, what was expected."""
    err = error.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else ""
    field = values.model_fields.get(name)
    flag = f"--{name.replace('_', '-')}" if name else ""
    # "--at 召开时间", the way the CLI's messages name an option and what goes in it (the
    # console says the field's label instead: sentinel.web.forms.for_console).
    what = (
        f"{flag} {re.split('[（，]', field.description)[0]}"
        if field and field.description
        else flag
    )
    kind = err["type"]
    if kind.startswith(("datetime_", "date_")):
        said = f"应为时间，如 2026-11-25 15:00，而不是“{err.get('input')}”"
    else:
        said = kind_words(kind) or err["msg"].removeprefix("Value error, ")
    return f"{title}：{what} {said}".strip()
