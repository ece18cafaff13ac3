"""``sentinel stats``: the trends of a period (per day, top sources and terms, hot topics,
spikes), from ``alerting.stats``; ``--json`` is the contract of ``../shared/PRODUCT.md``."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from sentinel.cli.base import AppContext, cli, json_option, pass_app, print_json


@cli.command()
@click.option(
    "--since",
    default="7d",
    show_default=True,
    metavar="AGE",
    help="统计时段：24h、7d、30d，或日期（如 2026-11-20）",
)
@json_option
@pass_app
def stats(app: AppContext, since: str, as_json: bool) -> None:
    """舆情趋势：每日帖文量、涉校提及、预警和负面占比，主要来源、高频词、热点话题和异常增长。"""
    from alerting.compose.views import source_labels
    from alerting.stats import stats as compute
    from sentinel.cli.core import parse_since

    now = datetime.now(UTC)
    start = parse_since(since)
    if start >= now:
        raise click.BadParameter(f"'{since}' 在当前时间之后", param_hint="'--since'")
    cfg = app.config
    with app.db.reading() as s:
        result = compute(s, start, now, cfg.tz)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(render_text(result, cfg.tz, source_labels(cfg)))


def render_text(st, tz, labels: dict[str, str] | None = None) -> str:
    """The trends in the office's words, for the terminal; sources by their display
    names (``labels``)."""
    from alerting.compose.trends import spike_line
    from core.times import office_time, zone_name

    labels = labels or {}
    lines = [
        f"统计时段：{office_time(st.since, tz)} 至 {office_time(st.now, tz)}（{zone_name(tz)}）",
        "",
    ]
    lines.append("一、每日情况（日期：采集帖文 / 涉校提及 / 预警 / 负面占比）")
    for d in st.per_day:
        lines.append(
            f"  {d.date:%m月%d日}：{d.posts} / {d.mentioned} / {d.alerts} / {d.negative:.0%}"
        )
    lines.append("")
    lines.append("二、涉校提及最多的来源")
    lines += [f"  {labels.get(s.source) or s.source}：{s.posts} 条" for s in st.top_sources] or [
        "  （无）"
    ]
    lines.append("")
    lines.append("三、高频话题词")
    lines.append("  " + ("、".join(f"{t.term}（{t.hits}）" for t in st.top_terms) or "（无）"))
    lines.append("")
    lines.append("四、热点话题（两条以上帖子讲同一件事）")
    from core.vocabulary import Polarity

    for h in st.hot_topics:
        lines.append(
            f"  {h.title}：{h.posts} 条，{h.sites} 个网站，最早 {office_time(h.first_seen_at, tz)}，"
            f"情感倾向{Polarity.label_of(h.sentiment['label'])}"
        )
    if not st.hot_topics:
        lines.append("  （无）")
    lines.append("")
    lines.append("五、异常增长")
    lines += [f"  {spike_line(x, tz)}" for x in st.spikes] or ["  本时段未发现异常增长。"]
    return "\n".join(lines)
