"""``metrics: {host, port}`` serves Prometheus text at /metrics (posts, matches,
incidents, notifications, sources up, job durations) and /healthz; ``log_format:
json`` writes one JSON object per line, stamped in the configured zone."""

from __future__ import annotations

import json
import logging
import re
import threading

import httpx

from sentinel import config as config_mod
from tests.daemon.conftest import wait_for, write_config

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>校园</title>
<item><title>江西警察学院食堂饭菜吃出虫子，请学校给个说法</title><link>http://bbs.example.cn/a/1</link>
<description>请问江西警察学院二食堂饭菜里吃出虫子的事情有人管吗？同学们都很担心食品安全。</description></item>
<item><title>今天天气很好</title><link>http://bbs.example.cn/a/2</link><description>去公园散步。</description></item>
</channel></rss>"""


def _value(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(m.group(1)) if m else 0.0


def _daemon(path, started: dict):
    import scheduler

    cfg = config_mod.load(path)
    stop = threading.Event()
    t = threading.Thread(
        target=scheduler.run_daemon,
        args=(cfg,),
        daemon=True,
        kwargs={"stop": stop, "on_started": lambda p: started.update(port=p.metrics_port)},
    )
    t.start()
    return stop, t


def test_metrics_count_posts_matches_incidents_and_notifications(tmp_path, server):
    from demo.mailbox import Mailbox

    server.add("/rss.xml", RSS, content_type="application/rss+xml")
    with Mailbox(tmp_path / "mail") as mailbox:
        path = write_config(
            tmp_path,
            [
                {"name": "news", "type": "feed", "url": server.url("/rss.xml"), "interval": "1h"},
                {
                    "name": "gone",
                    "type": "feed",
                    "url": server.url("/missing.xml"),
                    "interval": "1h",
                },
            ],
            metrics={"host": "127.0.0.1", "port": 0},
            smtp={
                "host": "127.0.0.1",
                "port": mailbox.port,
                "from": "舆情监测 <yq@example.edu.cn>",
            },
            recipients={"office": ["office@example.edu.cn"]},
        )
        started: dict = {}
        stop, t = _daemon(path, started)
        try:
            assert wait_for(lambda: "port" in started, 30)
            base = f"http://127.0.0.1:{started['port']}"
            assert wait_for(lambda: mailbox.messages(), 60)

            def settled():
                r = httpx.get(base + "/metrics").text
                done = _value(r, 'sentinel_job_duration_seconds_count{job="collect"}') >= 2
                return (
                    r
                    if done and _value(r, 'sentinel_notifications_sent_total{channel="email"}') >= 1
                    else None
                )

            text = wait_for(settled, 20)
            assert _value(text, 'sentinel_posts_fetched_total{source="news"}') == 2
            assert _value(text, 'sentinel_source_up{source="news"}') == 1
            assert _value(text, 'sentinel_source_up{source="gone"}') == 0
            assert _value(text, "sentinel_matches_total") == 2
            assert _value(text, "sentinel_incidents_opened_total") == 1
            assert "sentinel_notifications_failed_total" in text and "_created" not in text
            health = httpx.get(base + "/healthz")
            assert health.status_code == 200 and health.json()["ok"] is True
            assert httpx.get(base + "/other").status_code == 404
        finally:
            stop.set()
            t.join(timeout=15)


def test_failed_deliveries_are_counted_by_channel(tmp_path, server):
    server.add("/rss.xml", RSS, content_type="application/rss+xml")
    path = write_config(
        tmp_path,
        [{"name": "news", "type": "feed", "url": server.url("/rss.xml"), "interval": "1h"}],
        metrics={"port": 0},
        smtp={"host": "127.0.0.1", "port": 9, "from": "yq@example.edu.cn", "timeout": 2},
        recipients={"office": ["office@example.edu.cn"]},
    )
    started: dict = {}
    stop, t = _daemon(path, started)
    try:
        assert wait_for(lambda: "port" in started, 30)
        url = f"http://127.0.0.1:{started['port']}/metrics"
        assert wait_for(
            lambda: (
                _value(httpx.get(url).text, 'sentinel_notifications_failed_total{channel="email"}')
                >= 1
            ),
            60,
        )
    finally:
        stop.set()
        t.join(timeout=15)


def test_json_logs_are_one_object_per_line_in_the_configured_zone(tmp_path):
    from zoneinfo import ZoneInfo

    from core import logs
    from core.times import office_zone, set_office_zone

    before, root = office_zone(), logging.getLogger()
    handlers = list(root.handlers)
    set_office_zone(ZoneInfo("America/New_York"))
    try:
        path = logs.setup(tmp_path, console=False, fmt="json")
        logging.getLogger("sentinel.test").warning("来源 %s 采集失败", "news")
        for h in root.handlers:
            h.flush()
        line = json.loads(path.read_text(encoding="utf-8").strip().splitlines()[-1])
    finally:
        set_office_zone(before)
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in handlers:
            root.addHandler(h)
    assert line["message"] == "来源 news 采集失败" and line["level"] == "WARNING"
    assert line["logger"] == "sentinel.test" and line["time"][-6:] in ("-05:00", "-04:00")


def test_a_metrics_port_already_taken_is_one_chinese_line(tmp_path):
    import socket

    import pytest

    import scheduler
    from core.errors import SentinelError

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        path = write_config(tmp_path, [], metrics={"port": taken.getsockname()[1]})
        with pytest.raises(SentinelError, match="监控指标无法在"):
            scheduler.run_daemon(config_mod.load(path), for_seconds=1)
    finally:
        taken.close()
