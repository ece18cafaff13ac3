"""The trends as the office reads them: the weekly report carries the trend chart (inline
SVG), the negative share per day, the hot topics and the spikes; the digest its trends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerting.digest import build_digest
from alerting.incidents import review
from sentinel.config import Config
from tests.analysis.helpers import Store, matcher
from tests.analysis.test_stats import week


def _config() -> Config:
    return Config.model_validate(
        {"timezone": "Asia/Shanghai", "recipients": {"office": ["yuqing@example.edu.cn"]}}
    )


def test_the_weekly_report_shows_trends_with_a_chart(db, tmp_path):
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    week(Store(db, matcher(tmp_path)), now)
    cfg = _config()
    with db.session() as s:
        html = review.render_weekly(s, cfg, now + timedelta(hours=1), "html")
        md = review.render_weekly(s, cfg, now + timedelta(hours=1), "md")
    (tmp_path / "weekly.html").write_text(html, encoding="utf-8")
    assert "<title>每日涉校提及与负面帖文</title>" in html  # one chart: mentions, negative within
    assert html.count('fill="#c0392b"><title>') >= 8  # a negative bar for every day
    assert "本周热点话题" in html and "江西警察学院食堂吃出虫子" in html
    assert "异常增长：" in html and "2026-11-23 10:00 起一小时内涉校提及 8 条" in html
    assert "负面占比" in html and "88%" in html
    assert "本周热点话题" in md and "| 江西警察学院食堂吃出虫子 | 7 | 3 |" in md
    for key in ("negative", "mentions", "negative_share", "positive"):
        assert key not in html.replace('class="chart"', ""), key


def test_the_digest_carries_the_trends_of_its_period(db, tmp_path):
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    week(Store(db, matcher(tmp_path)), now)
    d = build_digest(db, _config(), now - timedelta(hours=1), now + timedelta(hours=1))
    assert "本时段趋势与热点" in d.html and "本时段趋势与热点" in d.text
    assert "热点话题" in d.text and "江西警察学院食堂吃出虫子（7 条，3 个网站" in d.text
    assert "异常增长：" in d.text and "负面占比" in d.text


def test_a_digest_over_years_shows_its_last_month_day_by_day():
    """A digest run by hand with an early --since: its table and chart stay a month long."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from alerting.compose.trends import MAX_DAYS, trends_view
    from alerting.stats import DayStats, Stats

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    days = [DayStats(date(2025, 1, 1) + timedelta(days=i), mentioned=i % 5) for i in range(700)]
    st = Stats(now - timedelta(days=700), now, days, [], [], [], [], ZoneInfo("Asia/Shanghai"))
    view = trends_view(st, st.tz)
    assert len(view["days"]) == MAX_DAYS == 31 and view["days_cut"]
    assert view["days"][-1]["date"] == f"{days[-1].date:%m月%d日}"
    assert str(view["chart"]).count('class="bar"') == MAX_DAYS


def test_a_long_weekly_report_keeps_each_days_share_under_its_own_day(db, tmp_path):
    """Over 60 days the chart and the table show the last 31; each day's negative share
    stands in that day's column (it once ran 30 columns early), in HTML and Markdown."""
    import re

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    week(Store(db, matcher(tmp_path)), now)
    with db.session() as s:
        html = review.render_weekly(s, _config(), now + timedelta(hours=1), "html", days=60)
        md = review.render_weekly(s, _config(), now + timedelta(hours=1), "md", days=60)

    def row(head):
        found = re.search(rf"<tr><th>{head}</th>(.*?)</tr>", html)
        return re.findall(r"<td>(.*?)</td>", found.group(1))

    dates, mentioned, negative = row("日期"), row("涉校帖文"), row("负面占比")
    assert len(dates) == len(mentioned) == len(negative) == 31
    by_day = dict(zip(dates, zip(mentioned, negative, strict=True), strict=True))
    assert by_day["11-23"] == ("8", "88%") and by_day["11-20"] == ("1", "100%")
    assert by_day["10-25"] == ("0", "0%")  # before the week's posts
    assert "图表和上表列出最近 31 天（10-24 起）" in html
    assert "| 11-23 | 8 | 7 | 88% |" in md and "| 11-20 | 1 | 0 | 100% |" in md
    assert "上表列出最近 31 天" in md
