"""``render: true``: pages whose text a script writes are read in Debian's headless
Chromium (scrapy-playwright), on loopback, with the limits of plain fetches, and no
browser process outlives its crawl."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from pydantic import ValidationError

from crawler.base import CollectContext
from crawler.child import CrawlChild
from crawler.placeholder import shows_no_text
from crawler.registry import source_types
from tests.servers.http import LoopbackHTTPServer

pytestmark = [
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)",
    ),
    pytest.mark.timeout(120),
]

STORY = (
    "今天有同学反映江西警察学院食堂饭菜质量问题，学校后勤处已经介入调查，表示将在三日内给出答复。"
)

# A forum theme that writes the post with a script, as Weibo or Zhihu pages do: the
# HTML as fetched says 加载中 and nothing else.
JS_POST = """<!doctype html><html><head><meta charset="utf-8"><title>加载中</title></head>
<body><div id="app">加载中...</div>
<script>
setTimeout(function () {
  document.title = "关于食堂饭菜质量的反映";
  document.getElementById("app").innerHTML =
    "<article class='post'><h1>关于食堂饭菜质量的反映</h1><p>" + "STORY".repeat(3) + "</p></article>";
}, 200);
</script></body></html>""".replace("STORY", STORY)


def _site(url: str, **kw) -> dict:
    return {"name": "js-forum", "type": "site", "urls": [url], "delay": 0, **kw}


def test_a_script_written_page_is_read_with_render_and_shows_no_text_without(server, collect):
    url = server.add("/thread/1", JS_POST)
    plain = collect(_site(url))
    assert plain.ok and len(plain.posts) == 1
    p = plain.posts[0]
    assert STORY not in p.text
    assert shows_no_text(p.title, p.text)  # what marks the source 看不到正文

    rendered = collect(_site(url, render=True, render_wait="article.post"))
    assert rendered.ok, rendered.error
    (r,) = rendered.posts
    assert r.title == "关于食堂饭菜质量的反映"
    assert STORY in r.text and not shows_no_text(r.title, r.text)
    # The evidence says it is the page after its scripts ran, not the bytes as sent.
    assert r.snapshot.headers["x-sentinel-rendered"] == "chromium"
    assert STORY.encode() in r.snapshot.body


def test_render_wait_in_milliseconds_lets_the_script_run(server, collect):
    url = server.add("/thread/2", JS_POST)
    r = collect(_site(url, render=True, render_wait=1200))
    assert r.ok, r.error
    assert STORY in r.posts[0].text


def test_a_rendered_page_cannot_reach_a_host_outside_the_allowed_list(server, collect):
    with LoopbackHTTPServer() as other:
        other.add("/steal.js", "document.body.insertAdjacentHTML('beforeend', '<p>外站脚本</p>')")
        other.add("/api", "外站数据", content_type="text/plain")
        page = JS_POST.replace(
            "</body>",
            f"<script src='{other.url('/steal.js')}'></script>"
            f"<script>fetch('{other.url('/api')}').then(r => r.text()).then(t => "
            "document.body.insertAdjacentHTML('beforeend', '<p>' + t + '</p>'));</script>"
            f"<img src='{other.url('/pixel.png')}'><iframe src='{other.url('/frame')}'></iframe>"
            f"<script>try {{ new WebSocket('ws://{other.host}:{other.port}/ws'); }} catch (e) {{}}"
            f"location.hash = 'x'; window.open('{other.url('/popup')}');</script>"
            f"<a id='tab' target='_blank' href='{other.url('/tab')}'>x</a>"
            "<script>document.getElementById('tab').click();</script>"
            "</body>",
        )
        url = server.add("/thread/3", page)
        r = collect(_site(url, render=True, render_wait=1500))
        assert r.ok, r.error
        assert STORY in r.posts[0].text
        assert "外站" not in r.posts[0].text
        assert [path for _, path, _ in other.log if path != "/robots.txt"] == [], other.log


def test_a_rendered_page_redirected_off_the_allowed_hosts_is_not_kept(server, collect):
    with LoopbackHTTPServer() as other:
        target = other.add("/landing", JS_POST)
        url = server.add("/go", b"", status=302, headers={"Location": target})
        r = collect(_site(url, render=True))
        assert r.posts == []
        assert r.error_kind == "offsite", (r.error_kind, r.error)
        assert other.requests_to("/landing") == 0


def test_a_page_whose_wait_never_comes_fails_within_its_timeout(server, collect):
    url = server.add("/thread/4", JS_POST)
    started = time.monotonic()
    r = collect(_site(url, render=True, render_wait="div.never-there", timeout=3))
    assert time.monotonic() - started < 30
    assert r.posts == [] and r.error_kind == "timeout"
    assert "render_wait" in r.error and "div.never-there" in r.error


@pytest.mark.parametrize(
    "path", ["/hostile/hang", "/hostile/never-ending", "/hostile/trickle-body"]
)
def test_a_hostile_server_cannot_hold_a_rendered_page_past_its_timeout(server, collect, path):
    started = time.monotonic()
    r = collect(_site(server.url(path), render=True, timeout=3, obey_robots=False))
    assert time.monotonic() - started < 40
    assert r.posts == [] and r.error_kind == "timeout", (r.error_kind, r.error)


def test_a_missing_rendered_page_is_an_http_error_like_a_plain_fetch(server, collect):
    r = collect(_site(server.url("/gone"), render=True, obey_robots=False))
    assert r.posts == [] and r.error_kind == "http_4xx", (r.error_kind, r.error)
    assert "HTTP 404" in r.error
    ua = [h.get("user-agent", "") for _, p, h in server.log if p == "/gone"]
    assert ua and all(u.startswith("sentinel-test/0.1") for u in ua), ua


def test_a_huge_rendered_page_is_kept_only_up_to_max_bytes(server, collect):
    r = collect(
        _site(server.url("/hostile/big"), render=True, max_bytes=200_000, obey_robots=False)
    )
    assert r.ok, r.error
    (p,) = r.posts
    assert p.snapshot.truncated and len(p.snapshot.body) <= 200_000


def test_the_page_budget_stops_a_rendered_crawl(server, collect):
    links = "".join(f"<a class='t' href='/t/{i}'>帖子{i}</a>" for i in range(6))
    for i in range(6):
        server.add(f"/t/{i}", JS_POST)
    url = server.add("/board", f"<html><body>{links}</body></html>")
    r = collect(
        _site(
            url,
            render=True,
            render_max_pages=3,
            obey_robots=False,
            list={"item": "a.t::attr(href)"},
        )
    )
    assert r.ok, r.error
    assert len(r.posts) == 2  # the board itself is one of the three pages
    assert sum(server.requests_to(f"/t/{i}") for i in range(6)) == 2
    assert any("render_max_pages: 3" in w and "4 个页面留待下次" in w for w in r.warnings), (
        r.warnings
    )


def test_a_script_written_board_and_its_threads_are_read(server, collect):
    # The board's links, too, are written by a script: the list page waits for them,
    # the thread pages for render_wait.
    for i in range(3):
        server.add(f"/t/{i}", JS_POST)
    links = "".join(f"<a class='t' href='/t/{i}'>帖子{i}</a>" for i in range(3))
    board = (
        "<html><body><div id='list'>加载中</div><script>setTimeout(function () {"
        f"document.getElementById('list').innerHTML = \"{links}\";"
        "}, 300);</script></body></html>"
    )
    url = server.add("/board", board)
    r = collect(
        _site(url, render=True, render_wait="article.post", list={"item": "a.t::attr(href)"})
    )
    assert r.ok, r.error
    assert sorted(p.url for p in r.posts) == [server.url(f"/t/{i}") for i in range(3)]
    assert all(STORY in p.text for p in r.posts)


def test_a_missing_browser_is_one_clear_sentence(server, collect, context):
    url = server.add("/thread/5", JS_POST)
    ctx = CollectContext(user_agent=context.user_agent, browser_path="/opt/nowhere/chromium")
    r = collect(_site(url, render=True), ctx=ctx)
    assert r.posts == [] and r.error_kind == "render"
    assert "browser_path" in r.error and "/opt/nowhere/chromium" in r.error
    assert server.requests_to("/thread/5") == 0


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"render_wait": "article"}, "render_wait 只在 render: true 时有效"),
        ({"render": True, "render_wait": "div[["}, "不是有效的 CSS 选择器"),
        ({"render": True, "render_wait": 999_999}, "0 到 120000"),
    ],
)
def test_render_keys_are_checked_in_chinese(keys, expected):
    with pytest.raises(ValidationError) as e:
        source_types()["site"].config_model.model_validate(_site("http://x.example/", **keys))
    assert expected in str(e.value)


# -- no Chromium outlives its crawl -------------------------------------------------------
def _children(pid: int) -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(p))
    return tree


def _chromium_under(pid: int) -> set[int]:
    """The chromium processes descending from ``pid`` (the crawl child we started)."""
    tree, out, todo = _children(pid), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            todo.append(child)
            try:
                with open(f"/proc/{child}/comm") as fh:
                    if "chrom" in fh.read():
                        out.add(child)
            except OSError:
                pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _job(url: str, **kw) -> dict:
    return {
        "urls": [url],
        "list": None,
        "fields": {},
        "allowed_domains": [url.split("/")[2]],
        "render": True,
        "timeout": 30,
        "obey_robots": False,
        "delay": 0,
        "max_requests": 10,
        **kw,
    }


def _wait_for_browser(child: CrawlChild, seconds: float = 30) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = _chromium_under(child._proc.pid)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("no chromium process started under the crawl")


def test_no_chromium_outlives_a_crawl_that_is_stopped(server):
    url = server.add("/thread/6", JS_POST)
    with CrawlChild(_job(url, render_wait="div.never-there"), timeout=60) as child:
        browsers = _wait_for_browser(child)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in browsers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in browsers if _alive(p)]


def test_no_chromium_outlives_a_crawl_that_ends(server):
    url = server.add("/thread/7", JS_POST)
    seen: set[int] = set()
    records = []
    with CrawlChild(_job(url, render_wait=1500), timeout=60) as child:
        seen |= _wait_for_browser(child)
        for kind, rec in child:
            records.append(kind)
            seen |= _chromium_under(child._proc.pid)
    assert "page" in records
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in seen if _alive(p)]


def test_config_check_says_when_the_browser_is_missing(tmp_path):
    from click.testing import CliRunner

    from sentinel.cli import cli

    path = tmp_path / "sentinel.yaml"
    path.write_text(
        "browser_path: /opt/nowhere/chromium\n"
        "sources:\n"
        "  - {name: js, type: site, urls: ['https://bbs.example.cn/t/1'], render: true}\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(cli, ["--config", str(path), "config", "check"])
    assert r.exit_code == 0, r.output
    assert "browser_path 指定的浏览器 /opt/nowhere/chromium 不存在或不可执行" in r.output
