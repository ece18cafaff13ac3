"""``sentinel source test``: a dry run against a loopback site shows what would be
stored (title, time, author, first lines) and what the matcher says, and stores and
sends nothing."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from sentinel.cli import cli
from tests.servers.http import LoopbackHTTPServer

LIST = """<html><head><meta charset="gbk"></head><body><ul>
<li><a class="s xst" href="/t/1.html">食堂问题</a></li><li><a class="s xst" href="/t/2.html">运动会</a></li>
</ul></body></html>"""
POST = """<html><head><meta charset="gbk"><title>{title}</title></head><body><h1><span>{title}</span></h1>
<a class="xw1">{author}</a><em id="authorposton1">发表于 2026-11-22 20:15</em>
<td class="t_f">{body}</td></body></html>"""


@pytest.fixture
def site():
    with LoopbackHTTPServer() as srv:
        srv.add("/forum-1.html", LIST.encode("gbk"), content_type="text/html; charset=gbk")
        srv.add(
            "/t/1.html",
            POST.format(
                title="江西警察学院食堂饭菜里吃出虫子",
                author="匿名同学",
                body="今天在江西警察学院二食堂吃饭，饭菜里有虫子。\n学校能不能给个说法？\n已经不是第一次了。\n第四行不显示。",
            ).encode("gbk"),
            content_type="text/html; charset=gbk",
        )
        srv.add(
            "/t/2.html",
            POST.format(title="秋季运动会圆满结束", author="体育部", body="师生踊跃参加。").encode(
                "gbk"
            ),
            content_type="text/html; charset=gbk",
        )
        yield srv


def _config(tmp_path, site) -> str:
    doc = {
        "database": f"sqlite:///{tmp_path / 'sentinel.db'}",
        "var_dir": str(tmp_path / "var"),
        "sources": [
            {
                "name": "bbs",
                "type": "site",
                "urls": [site.url("/forum-1.html")],
                "list": {"item": "a.s.xst::attr(href)"},
                "fields": {
                    "title": "h1 span::text",
                    "body": "td.t_f",
                    "author": "a.xw1::text",
                    "published": "em[id^=authorposton]::text",
                },
            }
        ],
    }
    p = tmp_path / "sentinel.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(p)


def test_source_test_shows_what_would_be_stored_and_matched_and_stores_nothing(tmp_path, site):
    path = _config(tmp_path, site)
    r = CliRunner().invoke(cli, ["--config", path, "source", "test", "bbs"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert (
        "江西警察学院食堂饭菜里吃出虫子" in out and "匿名同学" in out and "2026-11-22 20:15" in out
    )
    assert "学校能不能给个说法" in out and "第四行不显示" not in out  # the first lines only
    flat = "".join(out.split())  # the summary wraps where the time it names ends
    assert "需处置" in flat and "将保存帖子2条" in flat and "不保存、不通知" in flat
    assert not (tmp_path / "sentinel.db").exists()  # no database opened, nothing stored


def test_source_test_json_and_a_source_given_on_the_command_line(tmp_path, site):
    path = _config(tmp_path, site)
    r = CliRunner().invoke(
        cli,
        [
            "--config",
            path,
            "source",
            "test",
            "--type",
            "site",
            "--url",
            site.url("/forum-1.html"),
            "--set",
            "list.item=a.s.xst::attr(href)",
            "--set",
            "fields.title=h1 span::text",
            "--set",
            "fields.body=td.t_f",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["ok"] and data["counts"] == {"posts": 2, "mentioned": 1, "alerts": 1}
    by_title = {p["title"]: p for p in data["posts"]}
    canteen = by_title["江西警察学院食堂饭菜里吃出虫子"]
    assert canteen["match"]["alert"] and canteen["match"]["category"] == "inquiry"
    assert not by_title["秋季运动会圆满结束"]["match"]["mentioned"]
    assert not (tmp_path / "sentinel.db").exists()


def test_source_test_mistakes_are_one_chinese_line(tmp_path, site):
    path = _config(tmp_path, site)
    r = CliRunner().invoke(cli, ["--config", path, "source", "test", "nosuch"])
    assert r.exit_code == 1 and "没有名为 'nosuch' 的来源" in r.output
    r = CliRunner().invoke(
        cli,
        [
            "--config",
            path,
            "source",
            "test",
            "--type",
            "site",
            "--url",
            "http://x/",
            "--set",
            "colour=red",
        ],
    )
    assert r.exit_code == 1 and "来源设置有误" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(
        cli, ["--config", path, "source", "test", "--url", site.url("/missing.xml")]
    )
    assert r.exit_code == 1 and "采集失败" in r.output
