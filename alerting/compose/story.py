"""What a report tells a reader who has seen nothing else: the story in two lines, where
it started and how far it spread, what is proposed, what the reader is asked to do and
how, and by when.

A leader or the superior department reads the report on its own (their first mail
about the incident may be a level-2 report): every part is here, in plain values the
caller measured (``Report`` for the escalation level, a spread dictionary for the
measures), so nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerting.compose.text import clean_line
from alerting.compose.views import join_url, source_label
from core.durations import format_duration
from core.times import office_time, zone_name
from core.vocabulary import Category, Severity

OFFICE = "office"


@dataclass(frozen=True)
class Report:
    """One escalation level as a message tells it: its number, its groups (told at the
    same moment), the acknowledgement deadline and who is told next if nobody
    acknowledges (empty after the last level: then reminders follow)."""

    level: int
    groups: tuple[str, ...]
    ack_due_at: datetime
    next_groups: tuple[str, ...] = ()
    note: str | None = None


@dataclass
class Spread:
    """What was measured about the incident's posts when the message was composed."""

    now: datetime
    posts: int = 0
    sites: int = 0
    site_names: list[str] = field(default_factory=list)
    posts_last_hour: int = 0
    first: dict | None = None  # first post: time, title, author, site, source (name), url
    open_items: list[tuple[str, datetime | None]] = field(default_factory=list)


def groups_text(config, groups: Sequence[str]) -> str:
    """``院领导、上级主管部门``: groups by the names mails show (``recipients.*.label``)."""
    return "、".join(config.group_label(g) for g in groups)


def first_source_text(spread: Spread | None, config) -> str:
    """``校园论坛（bbs.example.edu.cn），2026-11-23 10:00，发帖人“警院小白”``."""
    first = (spread.first if spread else None) or {}
    if not first:
        return "未知"
    parts = [source_label(config, first.get("source")) or first.get("site") or "未知来源"]
    site = first.get("site")
    if site and site not in parts[0]:
        parts[0] += f"（{site}）"
    if first.get("time"):
        parts.append(office_time(first["time"], config.tz))
    if first.get("author"):
        parts.append(f"发帖人“{clean_line(first['author'], 30)}”")
    return "，".join(parts)


def story_lines(incident, spread: Spread | None, config) -> list[str]:
    """The story in two lines: what appeared where and when; how far it has spread and
    what the system makes of it."""
    title = clean_line(incident.title, 80) or f"事件 #{incident.id}"
    if spread is None or not spread.first:
        first_line = (
            f"{office_time(incident.opened_at, config.tz)}，监测发现涉及我校的网络帖文《{title}》。"
        )
    else:
        f = spread.first
        where = source_label(config, f.get("source")) or f.get("site") or "网络"
        who = f"网民“{clean_line(f['author'], 30)}”" if f.get("author") else "有网民"
        first_title = clean_line(f.get("title"), 80) or title
        first_line = (
            f"{office_time(f.get('time') or incident.opened_at, config.tz)}，{who}在{where}发帖"
            f"《{first_title}》，涉及我校。"
        )
    severity = Severity.label_of(incident.severity)
    nature = Category.get(incident.category)
    judged = (
        f"系统初步研判属{nature.plan_name}，危害程度{severity}"
        if nature
        else f"性质尚未研判，危害程度{severity}"
    )
    if spread is None:
        second = (
            f"目前相关帖文 {incident.post_count} 条，涉及 {incident.site_count} 个网站；{judged}。"
        )
    else:
        names = "、".join(spread.site_names[:4]) + ("等" if len(spread.site_names) > 4 else "")
        second = (
            f"截至 {office_time(spread.now, config.tz)}，相关帖文 {spread.posts} 条，涉及 {spread.sites} 个网站"
            + (f"（{names}）" if names else "")
            + f"，近 1 小时新增 {spread.posts_last_hour} 条；{judged}。"
        )
    return [first_line, second]


def measure_lines(incident, guidance: str, spread: Spread | None, config) -> list[str]:
    """The proposed measures: the office's own (研判), else the plan's for the category,
    and the open checklist items with their deadlines."""
    lines = []
    if incident.measures:
        lines.append(clean_line(incident.measures, 400))
    elif guidance:
        lines.append(guidance)
    for title, due in (spread.open_items if spread else [])[:6]:
        when = f"（期限 {office_time(due, config.tz)}）" if due else "（视情况办理）"
        lines.append(f"{clean_line(title, 60)}{when}")
    return lines


def ask(incident, report: Report, group: str, config) -> dict:
    """What the reader in ``group`` is asked to do, how, and by when (for templates:
    ``lines`` to read, ``how`` the ways to acknowledge, ``deadline``)."""
    due = office_time(report.ack_due_at, config.tz)
    zone = zone_name(config.tz)
    console = join_url(config.console_url, f"incidents/{incident.id}")
    office_mail = "、".join(config.addresses([OFFICE])) if hasattr(config, "addresses") else ""
    if group == OFFICE:
        lines = ["请立即确认收到，并按处置要求开展研判、处置，及时续报进展。"]
        how = [f"在命令行执行：sentinel incident ack {incident.id} --by 姓名"]
    else:
        lines = [
            "请审阅事件情况并确认收到；对处置措施有指示或意见的，请告知舆情办。",
        ]
        how = [
            "回复舆情办"
            + (f"（{office_mail}）" if office_mail else "")
            + "或电话告知，由舆情办在系统中登记确认。"
        ]
    if console:
        how.insert(0, f"在舆情处置平台确认：{console}")
    if report.next_groups:
        after = f"期限内无人确认的，系统将自动报告{groups_text(config, report.next_groups)}。"
    else:
        every = format_duration(config.notify.repeat_interval)
        after = f"期限内无人确认的，系统每{every}提醒一次，直至确认。"
    return {
        "lines": lines,
        "how": how,
        "console_url": console,
        "deadline": f"请于 {due}（{zone}）前确认收到。{after}",
        "due": due,
        "after": after,
    }
