"""Source health in one place: each run written on the source's record, the state in
the office's words, the threshold from sentinel.yaml, the rows `status` shows."""

from __future__ import annotations

from datetime import UTC, datetime

from core.vocabulary import SourceHealth
from crawler.base import Outcome, SourceState
from sentinel.config import Config
from storage.health import HealthSettings, health_of, record_health, source_health_rows
from storage.models import Source

T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
FAILED = Outcome(error_kind="timeout", error="timed out")


def config(**health) -> Config:
    return Config.model_validate(
        {
            "health": health,
            "sources": [
                {"name": "news", "type": "feed", "url": "http://news.example.edu.cn/rss.xml"},
                {"name": "forum", "type": "site", "urls": ["http://bbs.example.edu.cn/"]},
                {
                    "name": "idle",
                    "type": "feed",
                    "url": "http://x.example.edu.cn/rss",
                    "enabled": False,
                },
                {
                    "name": "fresh",
                    "type": "feed",
                    "url": "http://y.example.edu.cn/rss",
                    "obey_robots": False,
                },
            ],
        }
    )


def test_a_run_is_written_on_the_record_and_a_success_keeps_the_state(db):
    with db.session() as s:
        src = Source(name="news", type="feed", state={})
        s.add(src)
        s.flush()
        record_health(s, src, FAILED, T)
        assert (
            src.consecutive_failures == 1
            and src.last_error_kind == "timeout"
            and src.last_run_at == T
        )
        ok = Outcome(state=SourceState(etag='"v2"', data={"k": 1}), fetched=3, warnings=["w"])
        record_health(s, src, ok, T, new=2, seen=5)
        assert src.consecutive_failures == 0 and src.etag == '"v2"' and src.state == {"k": 1}
        assert (src.last_fetched, src.last_new, src.last_seen, src.last_new_at) == (3, 2, 5, T)
        assert src.last_warning == "w"


def test_the_state_follows_the_record_and_the_configured_threshold(db):
    cfg = config(down_after=2)
    by_name = {c.name: c for c in cfg.sources}
    with db.session() as s:
        news = Source(name="news", type="feed", state={})
        gone = Source(name="old-forum", type="site", state={})
        s.add_all([news, gone])
        s.flush()
        assert health_of(news, by_name["news"], cfg.health) == SourceHealth.NEVER_RUN
        record_health(s, news, Outcome(), T)
        assert health_of(news, by_name["news"], cfg.health) == SourceHealth.OK
        record_health(s, news, FAILED, T)
        assert health_of(news, by_name["news"], cfg.health) == SourceHealth.FAILING
        record_health(s, news, FAILED, T)
        assert health_of(news, by_name["news"], cfg.health) == SourceHealth.DOWN
        assert (
            health_of(news, by_name["news"], HealthSettings(down_after=3)) == SourceHealth.FAILING
        )
        assert health_of(None, by_name["idle"], cfg.health) == SourceHealth.DISABLED
        assert health_of(gone, None, cfg.health) == SourceHealth.UNCONFIGURED


def test_status_rows_cover_configured_and_once_seen_sources(db):
    cfg = config()
    with db.session() as s:
        news = Source(name="news", type="feed", state={})
        s.add_all([news, Source(name="old-forum", type="site", state={})])
        s.flush()
        for _ in range(3):
            record_health(s, news, FAILED, T)
    with db.session() as s:
        rows = {r["name"]: r for r in source_health_rows(s, cfg)}
    assert list(rows) == sorted(rows) == ["forum", "fresh", "idle", "news", "old-forum"]
    assert rows["news"]["health"] == "down" and rows["news"]["consecutive_failures"] == 3
    assert not rows["news"]["healthy"] and rows["news"]["last_error"] == "timed out"
    assert rows["forum"]["health"] == "never_run" and rows["forum"]["type"] == "site"
    assert rows["idle"]["health"] == "disabled" and not rows["idle"]["enabled"]
    assert rows["fresh"]["robots_obeyed"] is False
    assert rows["old-forum"]["health"] == "unconfigured" and not rows["old-forum"]["configured"]
    assert all(SourceHealth.get(r["health"]) for r in rows.values())
