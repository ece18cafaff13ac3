"""The early warning (【舆情预警·异常增长】): talk about the college is rising faster than
usual, before any single post is an alert. ``alerting.early_warning`` decides; this words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alerting.compose import urgency
from alerting.compose.spec import MessageSpec
from alerting.compose.views import post_view, source_labels
from core.times import office_time
from core.vocabulary import MessageKind


def key(metric: str, hour: datetime) -> str:
    """One notice per metric and hour in which the rise was found."""
    return f"early_warning:{metric}:{hour.strftime('%Y%m%dT%H')}"


def early_warning(
    spike, *, start: datetime, now: datetime, rules, pairs: list, terms: list, config
) -> MessageSpec:
    """``spike`` (``alerting.trends.Spike``) of the window ``[start, now]``; ``pairs`` the
    window's (post, match) naming the college, newest first; ``terms`` its top terms."""
    tz: ZoneInfo = config.tz
    label = MessageKind.EARLY_WARNING.label
    when = f"{office_time(start, tz, style='clock')}–{office_time(now, tz, style='clock')}"
    if spike.metric == "negative_share":
        what = (
            f"最近一小时（{when}）涉及我校的 {len(pairs)} 条帖文中负面占 {spike.value:.0%}，"
            f"此前 {rules.baseline_days} 天同一时段负面只占 {spike.baseline:.0%}。"
        )
        subject = f"【{label}】最近一小时涉校帖文负面占比升至 {spike.value:.0%}"
    else:
        what = (
            f"最近一小时（{when}）涉及我校的帖文有 {spike.value:g} 条，"
            f"此前 {rules.baseline_days} 天同一时段平均只有 {spike.baseline:g} 条。"
        )
        subject = f"【{label}】最近一小时涉校帖文 {spike.value:g} 条，明显多于平常"
    alerts = sum(1 for _, m in pairs if m.alert)
    labels = source_labels(config)
    sources: dict[str, int] = {}
    for p, _m in pairs:
        name = labels.get(p.source.name, p.source.name) if p.source is not None else ""
        sources[name] = sources.get(name, 0) + 1
    views = [
        post_view(
            p, m, tz=tz, console_url=config.console_url, masked=config.notify.mask_alerts,
            labels=labels,
        )
        for p, m in pairs[:5]
    ]  # fmt: skip
    return MessageSpec(
        key=key(spike.metric, spike.at),
        kind=MessageKind.EARLY_WARNING.value,
        to=("office",),
        subject=subject,
        template="notice",
        context={
            "heading": "涉校舆情异常增长",
            "lead": what,
            "band": urgency.neutral(label).as_dict(),  # no incident, no severity yet
            "facts": [
                ("统计时段", f"{office_time(start, tz)} 至 {office_time(now, tz)}"),
                ("其中已预警", f"{alerts} 条" if alerts else "尚无单条帖文达到预警线"),
                (
                    "主要来源",
                    "、".join(
                        f"{s}（{n}）" for s, n in sorted(sources.items(), key=lambda x: -x[1])[:5]
                    ),
                ),
                ("高频话题词", "、".join(f"{t}（{n}）" for t, n in terms[:8]) or "无"),
            ],
            "paragraphs": [
                "这可能是一件事正在发酵的早期信号：请尽快浏览下列帖文，研判是否需要提前介入；同一轮增长只提醒一次。"
            ],
            "posts_heading": "最近的相关帖文",
            "posts": views,
            "more": max(0, len(pairs) - len(views)),
        },
    )
