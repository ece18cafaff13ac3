"""The digest (【舆情摘要】): matched posts of a period, grouped, with coverage.

Incidents first (by severity), then alerts not in an incident by category, then plain
mentions; counts and the terms matched most; and the coverage of the sources, so the
office knows what it did not see. Everything here works on records the caller has
loaded (``alerting.digest`` gathers them); nothing reads or writes the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from alerting.compose import urgency
from alerting.compose.spec import MessageSpec
from alerting.compose.text import clean_line
from alerting.compose.views import join_url, local_time, post_view, source_labels
from core.vocabulary import Category, FetchErrorKind, MessageKind, Severity, SourceHealth

# What the office can change when a source's pages show no text.
NO_CONTENT_HINT = (
    "页面可能由 JavaScript 加载或需要登录：可为该来源设置 render: true（用浏览器渲染页面），"
    "或用 fields 指定正文所在的选择器"
)

# ... and when the source is already rendered in a browser (render: true).
NO_CONTENT_HINT_RENDERED = (
    "已用浏览器渲染（render: true）仍看不到正文：页面可能需要登录或被人机验证拦截；"
    "可用 render_wait 等待正文出现，或用 fields 指定正文所在的选择器"
)


def no_content_hint(source_config: Any) -> str:
    """What the office can do about a source whose pages show no text."""
    return NO_CONTENT_HINT_RENDERED if getattr(source_config, "render", False) else NO_CONTENT_HINT


CATEGORY_ORDER = ["illegal", "hype", "inquiry", "constructive", None]


def period_key(name: str, until: datetime, tz) -> str:
    """One scheduled digest per name and period (its end, a cron minute, local time)."""
    return f"digest:{name}:{until.astimezone(tz).strftime('%Y%m%dT%H%M')}"


def manual_key(until: datetime) -> str:
    """A digest asked for by hand (``sentinel digest --send``) is its own, to the instant."""
    return f"digest:manual:{until.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}"


def message(subject: str, context: dict[str, Any], *, key: str, to: Iterable[str]) -> MessageSpec:
    """The digest as one message to ``to``."""
    return MessageSpec(
        key=key,
        kind=MessageKind.DIGEST.value,
        to=tuple(to),
        subject=subject,
        template="digest",
        context=context,
    )


def period_word(since: datetime, until: datetime) -> str:
    hours = (until - since).total_seconds() / 3600
    if hours <= 1.5:
        return "每小时"
    if hours <= 30:
        return "每日"
    if hours <= 24 * 8:
        return "每周"
    return "阶段"


def content(
    rows: list,
    incidents: Mapping[int, Any],
    *,
    coverage: tuple[list, list, list],
    since: datetime,
    until: datetime,
    config,
    name: str,
    max_posts: int,
) -> tuple[str, dict[str, Any]]:
    """(subject, template context) of the digest of ``rows`` — ``(post, match,
    incident id or None)`` of every post that named the college in the period —
    with ``incidents`` by id and the sources' ``coverage`` (failed, silent, ok)."""
    masked = config.notify.mask_digests
    tz = config.tz
    by_incident: dict[int, list] = {}
    loose_alerts: dict[str | None, list] = {}
    mentions: list = []
    for p, m, inc_id in rows:
        if inc_id is not None:
            by_incident.setdefault(inc_id, []).append((p, m))
        elif m.alert:
            loose_alerts.setdefault(m.category, []).append((p, m))
        else:
            mentions.append((p, m))

    labels = source_labels(config)

    def views(pairs):
        return [
            post_view(p, m, tz=tz, console_url=config.console_url, masked=masked, labels=labels)
            for p, m in pairs[:max_posts]
        ], max(0, len(pairs) - max_posts)

    shown_incidents = []
    for inc_id, pairs in by_incident.items():
        inc = incidents[inc_id]
        shown, more = views(pairs)
        shown_incidents.append(
            {
                "id": inc.id,
                "title": clean_line(inc.title, 120),
                "severity": Severity.label_of(inc.severity),
                "category": Category.label_of(inc.category),
                "category_key": inc.category,
                "status": inc.status,
                "count": len(pairs),
                "total": inc.post_count,
                "posts": shown,
                "more": more,
                "console_url": join_url(config.console_url, f"incidents/{inc.id}"),
                "rank": (
                    ["I", "II", "III", "IV"].index(inc.severity)
                    if inc.severity in ("I", "II", "III", "IV")
                    else 9
                ),
            }
        )
    shown_incidents.sort(key=lambda x: (x["rank"], -x["count"]))
    categories = []
    for cat in CATEGORY_ORDER:
        pairs = loose_alerts.get(cat, [])
        if pairs:
            shown, more = views(pairs)
            categories.append(
                {"label": Category.label_of(cat), "count": len(pairs), "posts": shown, "more": more}
            )
    by_cat: dict[str, int] = {}
    term_counts: dict[str, int] = {}
    for _p, m, _i in rows:
        if m.alert:
            by_cat[Category.label_of(m.category)] = by_cat.get(Category.label_of(m.category), 0) + 1
        for h in m.hits or []:
            t = clean_line(h.get("term", ""), 30)
            if t:
                term_counts[t] = term_counts.get(t, 0) + 1
    mention_views, mention_more = views(mentions)
    failed, silent, ok = coverage
    n_alerts = sum(1 for _p, m, _i in rows if m.alert)
    context = {
        "heading": f"舆情{period_word(since, until)}摘要",
        "name": name,
        "since": local_time(since, tz),
        "until": local_time(until, tz),
        "n_posts": len(rows),
        "n_alerts": n_alerts,
        "n_mentions": len(rows) - n_alerts,
        "by_category": sorted(by_cat.items(), key=lambda kv: -kv[1]),
        "top_terms": sorted(term_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15],
        "incidents": shown_incidents,
        "categories": categories,
        "mentions": mention_views,
        "mentions_more": mention_more,
        "coverage_failed": failed,
        "coverage_silent": silent,
        "coverage_ok": ok,
        "masked": masked,
        "band": urgency.neutral(f"舆情{period_word(since, until)}摘要").as_dict(),
    }
    subject = (
        f"【{MessageKind.DIGEST.label}】{local_time(since, tz)} 至 {local_time(until, tz)}："
        f"预警 {n_alerts} 条，事件 {len(shown_incidents)} 起"
    )
    if failed or silent:
        subject += f"，{len(failed) + len(silent)} 个来源异常"
    return subject, context


def coverage(
    configured: Mapping[str, Any],
    known: Mapping[str, Any],
    counts: Mapping[int, int],
    since: datetime,
    tz,
    blind: set[str] = frozenset(),
) -> tuple[list, list, list]:
    """(failed, silent, ok) rows of the sources in the period: ``configured`` source
    configs and ``known`` source records by name, ``counts`` of new posts by source id;
    ``blind`` names the sources whose pages show no text (看不到正文, among the silent
    ones, with what to do about it)."""
    failed, silent, ok = [], [], []
    for name in sorted(set(configured) | set(known)):
        c, src = configured.get(name), known.get(name)
        if c is not None and not getattr(c, "enabled", True):
            continue
        if c is None:
            continue  # no longer configured: not part of what we meant to see
        row = {
            "name": clean_line(getattr(c, "label", None) or name, 60),
            "hint": "",
            "new": counts.get(src.id, 0) if src else 0,
            "last_success": local_time(src.last_success_at, tz)
            if src and src.last_success_at
            else "从未成功",
            "error": "",
            "failures": src.consecutive_failures if src else 0,
        }
        if src is None or src.last_run_at is None or src.last_run_at <= since:
            row["error"] = "本时段内未运行" if src is not None else "尚未运行"
            silent.append(row)
        elif (src.last_error_at and src.last_error_at > since) or src.consecutive_failures:
            row["error"] = clean_line(
                f"{FetchErrorKind.label_of(src.last_error_kind)}：{src.last_error or ''}", 120
            )
            failed.append(row)
        elif name in blind:
            row["error"] = (
                f"{SourceHealth.NO_CONTENT.label}：最近一次采集的 {src.last_new + src.last_seen} 个页面中"
                f" {src.last_empty} 个没有正文"
            )
            row["hint"] = no_content_hint(c)
            silent.append(row)
        elif row["new"] == 0 and not (src.last_new_at and src.last_new_at > since):
            row["error"] = "本时段内没有新内容"
            silent.append(row)
        else:
            ok.append(row)
    return failed, silent, ok
