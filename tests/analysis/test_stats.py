"""``alerting.stats`` and ``sentinel stats``: per day, top sources and terms, hot topics
and spikes over a week of stored posts, in the contract's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml
from click.testing import CliRunner

from alerting.stats import stats
from sentinel.cli import cli
from storage.db import Database
from tests.analysis.helpers import Store, matcher

TZ = ZoneInfo("Asia/Shanghai")
STORY = "江西警察学院二食堂饭菜里吃出虫子，好几个同学拉肚子，投诉了也没人管"
QUIET = [
    "今天参加了江西警察学院的开学典礼，新生方阵很整齐",
    "江西警察学院图书馆新到一批法学书籍",
    "我表哥在江西警察学院读书，放假回来晒黑了不少",
    "江西警察学院举办校园开放日，欢迎考生和家长参观",
    "江西警察学院校史馆里有很多老照片",
    "江西警察学院的同学们在运动会上拿了第一",
    "JX警院今天的升旗仪式很庄严",
]


def week(store: Store, now: datetime) -> None:
    """A quiet week (one neutral mention at 10:00 on each of seven days, plus posts that
    do not name the college), then at 10:00 today the canteen story on three sites."""
    for d in range(7, 0, -1):
        day = now - timedelta(days=d)
        store.post(day, QUIET[d - 1], site="news")
        store.post(day + timedelta(minutes=5), "今天天气很好，去公园散步", site="forum")
    first = store.post(now, STORY, title="江西警察学院食堂吃出虫子", site="forum")
    store.post(now + timedelta(minutes=3), "转发：" + STORY, site="weibo", dup=first)
    for k in range(5):
        store.post(now + timedelta(minutes=10 + k), STORY + f"，第{k + 2}天了", site="bbs")
    store.post(now + timedelta(minutes=20), "江西警察学院的樱花开了，好美", site="news")


def test_a_week_of_posts_in_the_contract_shape(db, tmp_path):
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in the office's zone
    store = Store(db, matcher(tmp_path))
    week(store, now)
    with db.session() as s:
        st = stats(s, now - timedelta(days=7), now + timedelta(hours=1), TZ)
    out = st.to_dict()
    assert list(out) == ["per_day", "top_sources", "top_terms", "hot_topics", "spikes"]
    assert [set(d) for d in out["per_day"]] == [
        {"date", "posts", "mentioned", "alerts", "negative"}
    ] * 8
    today = out["per_day"][-1]
    assert today == {
        "date": "2026-11-23",
        "posts": 8,
        "mentioned": 8,
        "alerts": 7,
        "negative": today["negative"],
    }
    assert today["negative"] >= 0.75  # the seven complaints, not the cherry blossoms
    assert out["per_day"][0]["mentioned"] == 1 and out["per_day"][0]["posts"] == 2
    assert out["top_sources"][:2] == [{"source": "news", "posts": 8}, {"source": "bbs", "posts": 5}]
    assert {"term": "吃出虫子", "hits": 7} in out["top_terms"]
    assert "转发" not in {t["term"] for t in out["top_terms"]}  # how it is said, not what
    [hot] = out["hot_topics"]
    assert hot["posts"] == 7 and hot["sites"] == 3
    assert hot["first_seen_at"] == "2026-11-23T10:00:00+08:00"
    assert hot["sentiment"]["label"] == "negative" and hot["title"].startswith("江西警察学院")
    metrics = {(x["metric"], x["at"]) for x in out["spikes"]}
    assert ("mentions", "2026-11-23T10:00:00+08:00") in metrics
    assert ("negative_share", "2026-11-23T10:00:00+08:00") in metrics
    spike = next(x for x in out["spikes"] if x["metric"] == "mentions")
    assert spike["value"] == 8 and spike["baseline"] == 1.0
    assert len(out["spikes"]) == 2  # the quiet days raised nothing


def test_sentinel_stats_prints_the_json_and_a_page_for_people(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    path = tmp_path / "sentinel.yaml"
    path.write_text(
        yaml.safe_dump({"database": url, "var_dir": str(tmp_path / "var")}), encoding="utf-8"
    )
    db = Database(url)
    now = datetime.now(UTC) - timedelta(hours=2)
    week(Store(db, matcher(tmp_path)), now)
    db.dispose()
    r = CliRunner().invoke(cli, ["--config", str(path), "stats", "--since", "7d", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["hot_topics"][0]["posts"] == 7
    assert any(x["metric"] == "mentions" for x in out["spikes"])
    r = CliRunner().invoke(cli, ["--config", str(path), "stats"])
    assert r.exit_code == 0, r.output
    for words in ("每日情况", "热点话题", "异常增长", "涉校提及", "情感倾向负面", "吃出虫子（7）"):
        assert words in r.output, words
    assert "negative" not in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["--config", str(path), "stats", "--since", "soon"])
    assert r.exit_code != 0 and "Traceback" not in r.output
