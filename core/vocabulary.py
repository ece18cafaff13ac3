"""The office's vocabulary, defined once.

Every word the office reads for a state, a category or a kind comes from here: each
member carries its stored key (English, stable, used in the database and in ``--json``),
its Chinese label and its rank (order of gravity or of the plan's steps). Pydantic
fields, click choices, templates and JSON output all derive from these enums; no other
module keeps a table of labels.

``Vocabulary.parse`` accepts the key, the label or one of the member's aliases, so the
office can type ``classify 1 炒作`` as well as ``classify 1 hype``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class Vocabulary(str, Enum):
    """A word of the office's vocabulary: ``key`` (stored), ``label`` (shown), ``rank``."""

    label: str
    rank: int
    aliases: tuple[str, ...]

    def __new__(cls, key: str, label: str, rank: int = 0, aliases: tuple[str, ...] = ()):
        obj = str.__new__(cls, key)
        obj._value_ = key
        obj.label = label
        obj.rank = rank
        obj.aliases = aliases
        return obj

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def key(self) -> str:
        return self.value

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def get(cls, value: Any) -> Vocabulary | None:
        """The member for a key, a label or an alias; ``None`` when there is none."""
        if value is None:
            return None
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        for m in cls:
            if text == m.value or text == m.label or text in m.aliases:
                return m
        low = text.lower()
        for m in cls:
            if low == m.value.lower():
                return m
        return None

    @classmethod
    def parse(cls, value: Any) -> Vocabulary:
        """Like ``get`` but a word that is none of ours is a ``ValueError`` naming the
        accepted words in Chinese (``classify 1 炒作``)."""
        m = cls.get(value)
        if m is None:
            raise ValueError(f"“{value}”不是有效的{cls.__noun__}；可用：{cls.choices_text()}")
        return m

    @classmethod
    def label_of(cls, value: Any, empty: str | None = None) -> str:
        """The label for a stored key; ``empty`` (or the vocabulary's own word for "none")
        for ``None``, and the raw value only for a key this vocabulary does not know."""
        if value is None or value == "":
            return empty if empty is not None else cls.__none__
        m = cls.get(value)
        return m.label if m else str(value)

    @classmethod
    def rank_of(cls, value: Any) -> int:
        m = cls.get(value)
        return m.rank if m else 0

    @classmethod
    def choices_text(cls) -> str:
        return "、".join(f"{m.label}（{m.value}）" for m in cls)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """``{key: label}``, for templates and JSON that want the whole table."""
        return {m.value: m.label for m in cls}


def _meta(noun: str, none: str = "—"):
    def deco(cls):
        cls.__noun__ = noun
        cls.__none__ = none
        return cls

    return deco


@_meta("事件状态")
class IncidentStatus(Vocabulary):
    """The ticket's steps, in the plan's order (rank)."""

    REPORTED = "reported", "已报案", 1, ("报案", "待研判")
    ASSESSING = "assessing", "研判中", 2, ("研判",)
    ESCALATED = "escalated", "已报告", 3, ("报告",)
    HANDLING = "handling", "分类处理中", 4, ("处理中", "分类处理")
    TRACKING = "tracking", "动态跟踪中", 5, ("动态跟踪", "跟踪")
    CLOSED = "closed", "已结案", 6, ("结案",)
    REOPENED = "reopened", "已重新打开", 7, ("重新打开", "重开")

    @property
    def is_open(self) -> bool:
        return self not in (IncidentStatus.TRACKING, IncidentStatus.CLOSED)


OPEN_STATUSES = tuple(s for s in IncidentStatus if s.is_open)


@_meta("处置类别", "未定性")
class Category(Vocabulary):
    """The plan's four handling categories (rank = the plan's number)."""

    INQUIRY = "inquiry", "询问质疑诉求", 1, ("询问", "质疑", "诉求", "第一类", "1")
    HYPE = "hype", "恶意传播炒作", 2, ("炒作", "恶意传播", "第二类", "2")
    ILLEGAL = "illegal", "捏造诽谤煽动", 3, ("诽谤", "捏造", "煽动", "造谣", "第三类", "3")
    CONSTRUCTIVE = "constructive", "建设性意见", 4, ("建议", "建设性", "意见", "第四类", "4")

    @property
    def plan_name(self) -> str:
        """``第一类（询问质疑诉求）``, as the plan names it."""
        return f"第{'一二三四'[self.rank - 1]}类（{self.label}）"


@_meta("危害等级", "未定级")
class Severity(Vocabulary):
    """Severity levels; rank is gravity (Ⅳ=1 … Ⅰ=4)."""

    I = "I", "Ⅰ级 特别重大", 4, ("Ⅰ", "Ⅰ级", "1级", "特别重大", "i")
    II = "II", "Ⅱ级 重大", 3, ("Ⅱ", "Ⅱ级", "2级", "重大", "ii")
    III = "III", "Ⅲ级 较大", 2, ("Ⅲ", "Ⅲ级", "3级", "较大", "iii")
    IV = "IV", "Ⅳ级 一般", 1, ("Ⅳ", "Ⅳ级", "4级", "一般", "iv")

    @property
    def numeral(self) -> str:
        return self.label.split("级")[0]

    @property
    def urgency(self) -> str:
        """The word a mail's subject starts with: 特急 for Ⅰ, 紧急 for Ⅱ, none below."""
        return {4: "特急", 3: "紧急"}.get(self.rank, "")


def severity_rank(sev: Any) -> int:
    """Higher is graver: Ⅳ=1 … Ⅰ=4; none = 0."""
    return Severity.rank_of(sev)


@_meta("事件记录类型")
class EventKind(Vocabulary):
    """What an entry in an incident's log records."""

    OPENED = "opened", "立案", 1
    REPORTED = "reported", "报案", 2
    POST_ADDED = "post_added", "新增帖文", 3
    TRANSITION = "transition", "状态变更", 4
    ASSESSED = "assessed", "研判", 5
    CLASSIFIED = "classified", "定性分类", 6
    SEVERITY_SET = "severity_set", "定级", 7
    ASSIGNED = "assigned", "指派", 8
    ESCALATION_SENT = "escalation_sent", "逐级报告", 9
    ACKNOWLEDGED = "acknowledged", "确认收到", 10
    CHECK = "check", "完成事项", 11
    CHECKLIST_ADDED = "checklist_added", "生成处置清单", 12
    OVERDUE = "overdue", "事项逾期", 13
    EVIDENCE_ADDED = "evidence_added", "固定证据", 14
    NOTE = "note", "备注", 15
    SECONDARY_CRISIS = "secondary_crisis", "二次危机", 16
    CLOSE_PROPOSED = "close_proposed", "建议结案", 17
    GROWTH = "growth", "传播增长", 18
    REPLY_DRAFTED = "reply_drafted", "起草答复", 19
    REPLY_SUBMITTED = "reply_submitted", "答复送审", 20
    REPLY_APPROVED = "reply_approved", "答复审定通过", 21
    REPLY_REJECTED = "reply_rejected", "答复退回修改", 22
    REPLY_PUBLISHED = "reply_published", "发布答复", 23
    MEETING = "meeting", "网下答疑会", 24
    FILE_ADDED = "file_added", "补充材料", 25
    UNIT_SET = "unit_set", "责任单位", 26
    TAKEDOWN = "takedown", "删帖复查", 27
    ESCALATION_REMINDER = "escalation_reminder", "催办提醒", 28
    RULE_CHANGED = "rule_changed", "改按新规则报告", 29
    RELATED = "related", "关联事件", 30


@_meta("处置事项状态")
class ChecklistState(Vocabulary):
    """An item of the category's checklist."""

    OPEN = "open", "待办", 1
    DONE = "done", "已完成", 2
    OVERDUE = "overdue", "已逾期", 3


@_meta("发件箱状态")
class OutboxStatus(Vocabulary):
    """Where a stored notification stands."""

    PENDING = "pending", "待发送", 1
    GROUPING = "grouping", "汇总中", 2
    RETRY = "retry", "等待重试", 3
    SENDING = "sending", "发送中", 4
    SENT = "sent", "已发送", 5
    FAILED = "failed", "发送失败", 6
    SILENCED = "silenced", "已静默", 7
    DEFERRED = "deferred", "暂缓（免打扰时段）", 8


DUE_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.RETRY, OutboxStatus.SENDING)


@_meta("通知类型")
class MessageKind(Vocabulary):
    """The families of notification the outbox carries."""

    NEW_INCIDENT = "new_incident", "舆情预警", 1
    INCIDENT_UPDATE = "incident_update", "舆情续报", 2
    ESCALATION = "escalation", "逐级报告", 3
    REMINDER = "reminder", "催办提醒", 4
    OVERDUE = "overdue", "事项逾期", 5
    SECONDARY_CRISIS = "secondary_crisis", "二次危机预警", 6
    SOURCE_DOWN = "source_down", "采集异常", 7
    SOURCE_RECOVERED = "source_recovered", "采集恢复", 8
    DIGEST = "digest", "舆情摘要", 9
    REPLY_APPROVAL = "reply_approval", "答复待审定", 10
    REPLY_DECISION = "reply_decision", "答复审定结果", 11
    UNIT_NOTICE = "unit_notice", "报案回执", 12
    CONFIG_ERROR = "config_error", "配置有误", 13
    EARLY_WARNING = "early_warning", "舆情预警·异常增长", 14


@_meta("来源状态")
class SourceHealth(Vocabulary):
    """A source's health as ``status`` and the digest's coverage section show it."""

    OK = "ok", "正常", 1
    NEVER_RUN = "never_run", "尚未运行", 2
    FAILING = "failing", "采集失败", 3
    DOWN = "down", "持续中断", 4
    NO_CONTENT = "no_content", "看不到正文", 5
    DISABLED = "disabled", "已停用", 6
    UNCONFIGURED = "unconfigured", "已不在配置中", 7


@_meta("采集错误类型", "错误")
class FetchErrorKind(Vocabulary):
    """Why a fetch failed, in the office's words (the key stays in ``--json``)."""

    TIMEOUT = "timeout", "超时", 1
    DNS = "dns", "域名无法解析", 2
    REFUSED = "refused", "连接被拒绝", 3
    CONNECTION = "connection", "连接中断", 4
    HTTP_4XX = "http_4xx", "网页不存在或拒绝访问", 5
    HTTP_5XX = "http_5xx", "网站服务器出错", 6
    TOO_LARGE = "too_large", "内容过大", 7
    REDIRECT = "redirect", "跳转过多", 8
    OFFSITE = "offsite", "跳转到允许范围以外的网站", 9
    ROBOTS = "robots", "robots.txt 禁止采集", 10
    DECODE = "decode", "无法识别文字编码", 11
    BAD_FEED = "bad_feed", "不是有效的订阅源", 12
    BAD_URL = "bad_url", "网址无效", 13
    PARSE = "parse", "页面无法解析", 17
    CRAWLER = "crawler", "采集进程出错", 14
    CRASH = "crash", "程序错误", 15
    STORAGE = "storage", "保存失败（下次重新采集）", 16
    CANCELLED = "cancelled", "已中止（守护进程停止）", 18
    RATE_LIMITED = "rate_limited", "网站限制访问频率（429）", 19
    RENDER = "render", "浏览器渲染失败", 20


@_meta("操作人")
class Actor(Vocabulary):
    """Who acts when no person does."""

    SYSTEM = "system", "系统", 1


def actor_label(name: str | None) -> str:
    """A log entry's actor as shown: 系统 for the system, the person's name otherwise."""
    return Actor.label_of(name, empty=Actor.SYSTEM.label)


@_meta("角色")
class Role(Vocabulary):
    """What a person may do (enforced in the domain functions)."""

    OFFICE = "office", "舆情办工作人员", 1, ("办公室", "舆情办", "办公室工作人员")
    LEADER = "leader", "学院领导", 2, ("领导",)
    UNIT = "unit", "单位信息管理员", 3, ("单位", "信息员", "信息管理员", "单位信息员")


@_meta("答复状态")
class ReplyState(Vocabulary):
    """A reply (统一回复) on its way: drafted, approved by a leader, published."""

    DRAFT = "draft", "草稿", 1
    PENDING = "pending", "待审定", 2, ("送审",)
    APPROVED = "approved", "已审定", 3, ("审定",)
    REJECTED = "rejected", "已退回", 4, ("退回",)
    PUBLISHED = "published", "已发布", 5, ("发布",)
    SUPERSEDED = "superseded", "已被新稿取代", 6


@_meta("一键链接失效原因")
class LinkRefusal(Vocabulary):
    """Why a one-tap link from a mail does not act (rank: the page's HTTP status)."""

    TAMPERED = "tampered", "链接无效：不完整或已被改动", 400
    EXPIRED = "expired", "链接已过期", 410
    USED = "used", "链接已经使用过", 410
    NOT_ALLOWED = "not_allowed", "您已无权进行此项操作", 403
    STALE = "stale", "事件情况已有变化，此链接不再适用", 409


@_meta("事件单位来源")
class UnitSource(Vocabulary):
    """Why a unit follows an incident."""

    REPORTER = "by_reporter", "报案人所在单位", 1
    WATCHLIST = "by_watchlist", "监测名单中的单位名称", 2
    OFFICE = "by_office", "舆情办指定", 3


@_meta("删帖复查结果")
class TakedownState(Vocabulary):
    """What a re-fetch of an offending post found after its source was dealt with."""

    DELETED = "deleted", "已删除", 1, ("已删帖",)
    STILL_ONLINE = "still_online", "仍可访问", 2
    UNREACHABLE = "unreachable", "无法确认（访问出错）", 3


@_meta("收件组")
class RecipientGroup(Vocabulary):
    """The recipient groups the plan names; a config may add others with their own
    labels (``recipients: {units: {label: 各单位, to: [...]}}``)."""

    OFFICE = "office", "舆情办", 1, ("办公室", "舆情应急处置办公室")
    LEADERS = "leaders", "学院领导", 2, ("领导", "院领导")
    SUPERIOR = "superior", "上级主管部门", 3, ("上级", "上级部门")


@_meta("静默对象")
class SilenceTarget(Vocabulary):
    """What a silence holds back."""

    INCIDENT = "incident", "事件", 1
    SOURCE = "source", "来源", 2
    TERM = "term", "关键词", 3


@_meta("命中方式")
class HitKind(Vocabulary):
    """How a watchlist term was found in a text."""

    EXACT = "exact", "原文", 1
    VARIANT = "variant", "变体写法", 2
    PINYIN = "pinyin", "拼音/谐音", 3
    FUZZY = "fuzzy", "近似写法", 4


@_meta("归并理由")
class JoinReason(Vocabulary):
    """Why a post joined an incident rather than opening a new one."""

    REPOST = "repost", "转载/复制已有帖文", 1
    NEAR_DUPLICATE = "near_duplicate", "文本高度相似", 2
    SHARED_TERMS = "shared_terms", "涉及相同主体和话题", 3


@_meta("情感倾向")
class Polarity(Vocabulary):
    """A post's sentiment."""

    NEGATIVE = "negative", "负面", 1
    NEUTRAL = "neutral", "中性", 2
    POSITIVE = "positive", "正面", 3


@_meta("来源类型")
class SourceKind(Vocabulary):
    """The built-in source types, as the office names them."""

    FEED = "feed", "订阅源", 1
    SITE = "site", "网站", 2
    SEARCH = "search", "搜索", 3


ALL: tuple[type[Vocabulary], ...] = (
    IncidentStatus,
    Category,
    Severity,
    EventKind,
    ChecklistState,
    OutboxStatus,
    MessageKind,
    SourceHealth,
    FetchErrorKind,
    Actor,
    Role,
    RecipientGroup,
    SilenceTarget,
    HitKind,
    JoinReason,
    Polarity,
    SourceKind,
    ReplyState,
    LinkRefusal,
    UnitSource,
    TakedownState,
)


def internal_keys() -> set[str]:
    """Every stored English key a person must never read in a document (for the guard
    test that reads what the office gets)."""
    return {m.value for v in ALL for m in v if len(m.value) > 2}


# The pydantic field types live in core/fields.py; re-exported here for the callers, on
# first use (building them imports pydantic, which a command that reads no field skips).
_FIELDS = ("CategoryKey", "RoleKey", "SeverityKey", "VocabField", "field_type", "vocabulary_of")


def __getattr__(name: str) -> Any:
    if name in _FIELDS:
        from core import fields

        return getattr(fields, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_FIELDS)
