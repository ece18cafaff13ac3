"""Issue 14 for the console's 报案 with a URL: the page is fetched by the hardened HTTP
layer within ``incidents.reports.fetch_timeout`` whatever the site does, the report is
kept with the reason in one line, and a page whose title carries markup and escape
sequences is stored clean and shown as text."""

from __future__ import annotations

import html
import re
import time

import pytest

import crawler.http  # noqa: F401 - imported here: its first import is not a site's cost
from tests.servers.http import LoopbackHTTPServer

TIMEOUT = 2


@pytest.fixture
def web_config(tmp_path, web_url):
    from sentinel.config import Config

    return Config(
        base_dir=tmp_path,
        database=web_url,
        # Loopback is where the test's sites are.
        incidents={"reports": {"allow_private": True, "fetch_timeout": TIMEOUT}},
        timezone="Asia/Shanghai",
        recipients={"office": ["zhaomin@example.edu.cn"]},
    )


def _report(client, token, url):
    return client.post("/report", data={"csrf": token, "url": url, "note": "论坛有人发帖"})


@pytest.mark.parametrize(
    "path", ["/hostile/hang", "/hostile/trickle-headers?every=0.5", "/hostile/redirect-data"]
)
def test_a_hostile_page_reported_in_the_console_costs_at_most_the_fetch_timeout(
    client, as_user, people, path
):
    token = as_user("保卫处刘老师")
    with LoopbackHTTPServer() as srv:
        # What a report of a page that answers at once costs (matching it, opening the
        # incident, showing its page): the bound is that plus the fetch's timeout.
        _report(client, token, srv.add("/warm", "<title>预热</title>"))
        t = time.monotonic()
        _report(client, token, srv.add("/quick", "<title>快速</title>"))
        quick = time.monotonic() - t
        t = time.monotonic()
        r = _report(client, token, srv.url(path))
        took = time.monotonic() - t
    bound = quick + TIMEOUT + 1
    print(
        f"\nconsole 报案 {path.split('?')[0]}: {took:.2f} s (bound {bound:.2f} s: a quick "
        f"page's report {quick:.2f} s + fetch_timeout {TIMEOUT} s + 1 s)"
    )
    assert took < bound
    text = html.unescape(r.text)
    assert r.status_code == 200 and "Traceback" not in text
    assert "已立案" in text or "已并入已有事件" in text  # the report is kept all the same
    [said] = re.findall(r"网页未能保存快照：[^<]*", text)
    assert ("超时" if "redirect" not in path else "跳转到不支持的地址") in said, said
    assert "报案已记录" in said


def test_a_reported_page_with_escape_sequences_is_stored_clean(client, as_user, people, web_db):
    from sqlalchemy import select

    from storage.models import Incident, Post

    token = as_user("保卫处刘老师")
    with LoopbackHTTPServer() as srv:
        r = _report(client, token, srv.url("/hostile/terminal-page"))
    assert r.status_code == 200 and "已立案" in r.text
    with web_db.session() as s:
        post = s.scalars(select(Post)).one()
        inc = s.scalars(select(Incident)).one()
        values = [post.title, post.text, post.author or "", inc.title]
    assert not any(c in v for v in values for c in "\x1b\x9b\x07\x00"), values
    assert "江西警察学院食堂红字" in post.title
    assert "江西警察学院食堂红字" in html.unescape(client.get(f"/incidents/{inc.id}").text)
