"""The polarity is stored with each match and the office reads it in the alert mail and
the digest: 情感倾向：负面 for a complaint, none for posts that do not name the college."""

from __future__ import annotations

import email
import email.policy

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from sentinel import config as config_mod
from sentinel.cli import cli
from storage.db import Database
from storage.models import Match, Post
from tests.servers.http import LoopbackHTTPServer

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>校园</title>
<item><title>江西警察学院食堂饭菜吃出虫子，太恶心了</title><link>{base}/a/1</link>
<description>江西警察学院二食堂饭菜里吃出虫子，好几个同学拉肚子，投诉了也没人管，太差了。</description></item>
<item><title>热烈祝贺江西警察学院毕业典礼圆满举行</title><link>{base}/a/2</link>
<description>祝同学们前程似锦，江西警察学院的毕业生个个精神饱满。</description></item>
<item><title>江西警察学院电梯出事</title><link>{base}/a/4</link>
<description>实验楼的电梯突然下坠，三个同学被困一个多小时，有人晕了过去，学校一句话都没有</description></item>
<item><title>今天天气很好</title><link>{base}/a/3</link><description>去公园散步，心情不错。</description></item>
</channel></rss>"""


def _config(tmp_path, feed_url, smtp_port) -> str:
    cfg = {
        "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "var_dir": str(tmp_path / "var"),
        "sources": [
            {"name": "news", "type": "feed", "url": feed_url, "interval": "5m", "delay": 0}
        ],
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from": "舆情监测 <yuqing@example.edu.cn>",
            "timeout": 5,
        },
        "recipients": {"office": ["yuqing@example.edu.cn"], "leaders": ["leader@example.edu.cn"]},
    }
    p = tmp_path / "sentinel.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return str(p)


def _bodies(raw: bytes) -> tuple[str, str, str]:
    m = email.message_from_bytes(raw, policy=email.policy.default)
    return (
        str(m["Subject"]),
        m.get_body(("plain",)).get_content(),
        m.get_body(("html",)).get_content(),
    )


def test_the_polarity_is_stored_and_read_in_the_alert_mail_and_the_digest(tmp_path, smtp_server):
    with LoopbackHTTPServer() as srv:
        srv.add(
            "/rss.xml", RSS.format(base=srv.url("").rstrip("/")), content_type="application/rss+xml"
        )
        path = _config(tmp_path, srv.url("/rss.xml"), smtp_server.port)
        r = CliRunner().invoke(cli, ["--config", path, "poll", "--json"])
        assert r.exit_code == 0, r.output
    db = Database(config_mod.load(path).database_url)
    with db.session() as s:
        rows = {p.title[:6]: m for p, m in s.execute(select(Post, Match).join(Match)).all()}
        assert rows["江西警察学院"].sentiment == "negative"
        assert -1.0 <= rows["江西警察学院"].sentiment_score < 0
        assert rows["热烈祝贺江西"].sentiment in ("neutral", "positive")
        assert rows["今天天气很好"].sentiment is None  # not about the college: never scored
    db.dispose()

    alerts = [_bodies(m["data"]) for m in smtp_server.mailbox.received]
    [(_subject, text, html)] = [a for a in alerts if "虫子" in a[1]]
    assert "情感倾向：负面" in text
    assert "情感倾向：" in html and "负面" in html
    # No listed topic term: the mail says why it is an alert all the same.
    [(_s, lift, lift_html)] = [a for a in alerts if "电梯" in a[1]]
    assert "研判提示：负面提及" in lift and "晕了" in lift and "研判提示：负面提及" in lift_html

    out = tmp_path / "digest.html"
    r = CliRunner().invoke(cli, ["--config", path, "digest", "--since", "24h", "--out", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert page.count("情感倾向：") >= 2  # the complaint (an alert) and the ceremony (a mention)
    assert "负面" in page and "negative" not in page
