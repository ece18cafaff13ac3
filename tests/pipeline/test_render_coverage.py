"""Empty content is a coverage gap: a forum whose posts a script writes is shown as
看不到正文 (with what to do about it) in `sentinel status`, in the digest's coverage
section and in `sentinel source test`, until it is read with `render: true`; then its
posts are stored with their text and matched. On loopback, through the commands."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from click.testing import CliRunner

from alerting.digest import build_digest
from sentinel import config as config_mod
from sentinel.cli import cli
from storage.db import Database
from tests.servers.http import LoopbackHTTPServer

pytestmark = [
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
    ),
    pytest.mark.timeout(180),
]

POST = "江西警察学院二食堂饭菜里吃出虫子，请学校给个说法，同学们都很担心食品安全问题。"
APP = """<!doctype html><html><head><meta charset="utf-8"><title>加载中</title></head>
<body><div id="root">加载中...</div><script>
window.addEventListener("load", function () {
  setTimeout(function () {
    document.title = "二食堂的饭菜问题";
    document.getElementById("root").innerHTML =
      "<div class='thread'><h1>二食堂的饭菜问题</h1><div class='post-body'>POST</div></div>";
  }, 150);
});
</script></body></html>""".replace("POST", POST * 2)


def _config(tmp_path, srv, render: bool, wait: str | None = "div.post-body") -> str:
    source = {
        "name": "alumni",
        "label": "校友论坛",
        "type": "site",
        "urls": [srv.url("/thread/1")],
        "interval": "5m",
        "delay": 0,
        "obey_robots": False,
    }
    if render:
        source |= {"render": True, **({"render_wait": wait} if wait else {})}
    cfg = {
        "database": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "var_dir": str(tmp_path / "var"),
        "sources": [source],
    }
    path = tmp_path / "sentinel.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return str(path)


def _sentinel(path: str, *args: str):
    r = CliRunner().invoke(cli, ["--config", path, *args])
    assert "Traceback" not in r.output, r.output
    return r


def _coverage_text(path: str) -> str:
    cfg = config_mod.load(path)
    db = Database(cfg.database_url)
    now = datetime.now(UTC)
    try:
        return build_digest(db, cfg, now - timedelta(hours=1), now + timedelta(seconds=1)).text
    finally:
        db.dispose()


def test_a_script_written_forum_is_a_coverage_gap_until_it_is_rendered(tmp_path):
    with LoopbackHTTPServer() as srv:
        srv.add("/thread/1", APP)

        # Without render: fetched fine, stored, but nothing in it can be matched.
        path = _config(tmp_path, srv, render=False)
        tried = _sentinel(path, "source", "test", "alumni")
        assert "看不到正文" in tried.output and "render: true" in tried.output.replace("\n", "")
        assert _sentinel(path, "poll", "--json").exit_code == 0
        status = _sentinel(path, "status").output
        row = next(line for line in status.splitlines() if "校友论坛" in line)
        assert "看不到正文" in row
        flat = status.replace("\n", "")
        assert "提示：来源“校友论坛”的页面看不到正文" in flat and "render: true" in flat
        assert json.loads(_sentinel(path, "status", "--json").output)["sources"][0]["health"] == (
            "no_content"
        )
        digest = _coverage_text(path)
        assert "校友论坛" in digest and "看不到正文" in digest and "render: true" in digest

        # With render: true the same page is read after its script ran.
        path = _config(tmp_path, srv, render=True)
        assert _sentinel(path, "poll", "--json").exit_code == 0
        status = _sentinel(path, "status").output
        row = next(line for line in status.splitlines() if "校友论坛" in line)
        assert "看不到正文" not in row and "正常" in row
        assert "提示：来源“校友论坛”" not in status
        posts = json.loads(_sentinel(path, "posts", "--json").output)
        assert len(posts) == 1 and posts[0]["title"] == "二食堂的饭菜问题"
        assert POST in posts[0]["text"]
        matched = json.loads(_sentinel(path, "posts", "--matched", "--json").output)
        assert [p["id"] for p in matched] == [posts[0]["id"]]
        assert "看不到正文" not in _coverage_text(path)


def test_a_rendered_source_behind_a_login_wall_gets_the_advice_that_fits(tmp_path):
    wall = "<html><head><title>提示</title></head><body><p>请先登录后查看</p></body></html>"
    with LoopbackHTTPServer() as srv:
        srv.add("/thread/1", wall)
        path = _config(tmp_path, srv, render=True, wait=None)
        assert _sentinel(path, "poll", "--json").exit_code == 0
        flat = _sentinel(path, "status").output.replace("\n", "")
        assert "提示：来源“校友论坛”的页面看不到正文" in flat
        assert "已用浏览器渲染（render: true）仍看不到正文" in flat and "需要登录" in flat
        digest = _coverage_text(path)
        assert "看不到正文" in digest and "已用浏览器渲染" in digest
