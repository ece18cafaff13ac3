"""Untrusted text stays text: the feedparser sanitizer suite's payloads (and a few of our
own that call alert), put into posts' titles, bodies, authors and URLs, into notes, a
reply and a report, do not execute on any page, open no dialog, load nothing from
another host and never become javascript:/data: links."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.browser import Tab
from tests.web.conftest import PASSWORD, serve

pytestmark = pytest.mark.slow

OURS = [
    "<script>alert('t1')</script>",
    '"><img src=x onerror="alert(\'t2\')">',
    "<svg onload=alert('t3')>",
    "</textarea><script>alert('t4')</script>",
    "<iframe src=\"javascript:alert('t5')\"></iframe>",
    "<a href=\"javascript:alert('t6')\">点我</a>",
    "{{ 7*7 }}<style>body{display:none}</style>",
]
ELEMENT = re.compile(
    r"<(content|description|summary|title|body|subtitle|tagline|info)\b[^>]*>(.*?)</\1>", re.DOTALL
)


def _payloads(corpus) -> list[str]:
    """The dangerous cases of feedparser's sanitizer suite, as the raw HTML they carry."""
    found = []
    for path in sorted((corpus / "feedparser-tests" / "wellformed" / "sanitize").glob("*.xml")):
        if not path.name.startswith(("entry_content_", "item_description_")):
            continue
        for _, raw in ELEMENT.findall(path.read_text(encoding="utf-8", errors="replace")):
            raw = raw.replace("<![CDATA[", "").replace("]]>", "")
            text = html.unescape(raw).strip()
            if "<" in text and text not in found:
                found.append(text)
    return found


def test_sanitizer_payloads_do_not_execute_on_any_page(
    browser, app, people, corpus, web_db, web_config, clock
):
    from alerting.incidents import intake, service
    from alerting.notify.outbox import Outbox
    from tests.incidents.conftest import World

    payloads = _payloads(corpus) + OURS
    assert len(payloads) >= 40
    world, outbox = World(web_db, clock), Outbox(web_db, web_config, now=clock.now)
    incidents = []
    with web_db.session() as s:
        for i, p in enumerate(payloads):
            url = [f"javascript:alert('u{i}')", f"data:text/html,<script>alert(1)</script>#{i}",
                   f"https://forum.example.com/t/{i}"][i % 3]  # fmt: skip
            post, m = world.post(s, url, "江西警察学院食堂" + p[:200], "江西警察学院食堂 " + p)
            post.author = p[:100]
            inc, _ = intake(s, post, m, config=web_config, outbox=outbox, now=clock.now())
            if inc.id not in incidents:
                incidents.append(inc.id)
        ctx = service.Context(s, web_config, outbox, clock.now())
        service.perform(ctx, incidents[0], "note", {"by": "赵敏", "text": OURS[0] + OURS[1]})
        service.perform(ctx, incidents[0], "reply", {"by": "赵敏", "text": OURS[2] + OURS[5]})
    with serve(app) as base:
        tab = Tab(browser, base)
        tab.login("赵敏", PASSWORD)
        paths = ["/", "/?closed=1", "/posts", "/posts?q=食堂", "/posts?matched=1", "/stats",
                 "/digests", "/sources", "/reports/weekly"]  # fmt: skip
        for iid in incidents[:12]:
            paths += [f"/incidents/{iid}", f"/incidents/{iid}/review"]
        p = tab.page
        for path in paths:
            tab.go(path)
            p.wait_for_load_state("load")
            bad = p.evaluate(
                """() => ({
                  scripts: [...document.scripts].map(s => s.src).filter(s => !s.includes('/static/')),
                  handlers: [...document.querySelectorAll('*')].flatMap(e =>
                      [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
                  links: [...document.querySelectorAll('a[href], iframe[src]')].map(a =>
                      a.getAttribute('href') || a.getAttribute('src'))
                      .filter(h => /^\\s*(javascript|data|vbscript):/i.test(h)),
                  hidden: getComputedStyle(document.body).display === 'none',
                })"""
            )
            assert bad == {"scripts": [], "handlers": [], "links": [], "hidden": False}, (path, bad)
        # The stored snapshots: shown in a sandboxed frame, the page's own scripts dead.
        tab.go(f"/incidents/{incidents[0]}")
        p.wait_for_load_state("load")
        tab.shot("incident-hostile-desktop")
        snap = p.locator("a:text-is('快照')").first.get_attribute("href")
        tab.go(snap)
        p.wait_for_timeout(300)
        assert p.locator("iframe.snapshot").get_attribute("sandbox") == ""
        # The watchlist test box echoes what it was given as text.
        tab.go("/watchlists")
        p.fill("textarea[name=text]", "江西警察学院 " + OURS[0] + OURS[1])
        p.click("button:text('检测')")
        p.wait_for_load_state("load")
        assert "<script>alert('t1')</script>" in p.locator("textarea[name=text]").input_value()
        assert not tab.dialogs, tab.dialogs
        assert not tab.outside, tab.outside[:5]
        tab.close()
