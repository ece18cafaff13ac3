"""Hostile crawled text is inert: header injection in titles and authors, and the XSS
payloads of feedparser's sanitizer tests in mails and in the HTML digest."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from alerting.compose.notice import incident_notice
from alerting.digest import build_digest
from alerting.notify import incident_alerts
from alerting.notify.outbox import Outbox
from tests.notify.conftest import make_config, parse

OUR_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "p",
    "table",
    "tr",
    "td",
    "th",
    "div",
    "strong",
    "a",
    "mark",
    "code",
    "ul",
    "li",
    "br",
    "span",
    # The trend chart of digests and the weekly report (alerting/compose/trends.py): our
    # own inline SVG, whose only words (dates, counts) are ours and escaped.
    "svg",
    "line",
    "rect",
    "text",
}
SVG_ATTRS = {"xmlns", "viewbox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "fill"}
SVG_ATTRS |= {"stroke", "font-size"}
# style: the template's own stylesheet written inline (alerting/compose/inline.py);
# the values come from our CSS, never from crawled text (checked below).
OUR_ATTRS = {
    "lang",
    "charset",
    "class",
    "href",
    "style",
    "name",
    "content",
    "role",
    "cellpadding",
    "cellspacing",
    "bgcolor",
} | SVG_ATTRS

INJECTIONS = [
    "食堂\r\nBcc: victim@evil.example\r\nX-Injected: yes",
    "食堂\nSubject: 伪造标题",
    "食堂\r\n\r\n<script>alert(1)</script>",
    "=?utf-8?b?QmNjOiB2aWN0aW1AZXZpbC5leGFtcGxl?=",
    "食堂\u2028Bcc: victim@evil.example",
    "食堂\x1b\x0bTo: victim@evil.example",
]


def sanitizer_payloads(corpus) -> list[str]:
    """The raw (unsanitised) HTML in each of feedparser's sanitize test feeds."""
    out = []
    for f in sorted((corpus / "feedparser-tests" / "wellformed" / "sanitize").glob("*.xml")):
        try:
            root = ET.parse(f).getroot()
        except ET.ParseError:
            continue
        for el in root.iter():
            if el.text and "<" in el.text:
                out.append(el.text)
    return out


class Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in OUR_TAGS:
            self.bad.append(f"<{tag}>")
        for k, v in attrs:
            if k not in OUR_ATTRS:
                self.bad.append(f"{tag}[{k}]")
            if k == "href" and not re.match(r"https?://", v or ""):
                self.bad.append(f"href={v}")
            if k == "style" and re.search(
                r"url\(|expression|javascript|@import|<", v or "", re.IGNORECASE
            ):
                self.bad.append(f"{tag}[style={v}]")


def inert(html: str) -> list[str]:
    p = Inspector()
    p.feed(html)
    return p.bad


def test_header_injection_in_titles_and_authors_is_inert(db, clock, world, smtp_server):
    cfg = make_config(smtp_server.port)
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        for bad in INJECTIONS:
            pm = world.post(s, title="江西警察学院" + bad, author=bad)
            incident_alerts.opened(s, outbox, world.incident(s, pm), [pm])
    assert outbox.drain()["sent"] == len(INJECTIONS)
    for raw in smtp_server.mailbox.received:
        assert raw["to"] == ["yuqing@example.edu.cn"]  # no smuggled recipient
        m = parse(raw["data"])
        assert m["Bcc"] is None and m["X-Injected"] is None
        assert len(m.get_all("Subject")) == 1 and len(m.get_all("To")) == 1
        assert "\n" not in m["Subject"] and "\r" not in m["Subject"]
        assert inert(m.get_body(("html",)).get_content()) == []
    print(
        f"\nheader injection: {len(INJECTIONS)} hostile titles/authors, 0 extra headers, 0 extra recipients"
    )


def test_feedparser_xss_payloads_are_inert_in_mails_and_digest(
    db, clock, world, smtp_server, corpus
):
    payloads = sanitizer_payloads(corpus)
    assert len(payloads) > 500
    cfg = make_config(smtp_server.port, console_url="https://yuqing.example.edu.cn")
    outbox = Outbox(db, cfg, now=clock.now)
    with db.session() as s:
        pm0 = world.post(s, title="江西警察学院 XSS 汇总")
        inc = world.incident(s, pm0)
        posts = []
        for i, payload in enumerate(payloads):
            text = f"江西警察学院 食堂 {payload} 投诉"
            pm = world.post(
                s,
                title=payload[:200],
                text=text,
                author=payload[:80],
                url=f"javascript:alert({i})" if i % 7 == 0 else None,
                hits=[{"term": "食堂", "start": 7, "end": 9, "topic": "canteen", "field": "text"}],
            )
            world.join(s, inc, pm)
            posts.append(pm)
        # Every payload in an alert mail (chunks so that each mail lists its posts).
        for k in range(0, len(posts), 20):
            chunk = posts[k : k + 20]
            outbox.queue(
                s,
                incident_notice(
                    key=f"xss:{k}",
                    kind="test",
                    to=["office"],
                    subject=chunk[0][0].title,
                    heading="测试",
                    posts=chunk,
                    incident=inc,
                    config=cfg,
                ),
            )
    outbox.drain()
    mails = [parse(r["data"]) for r in smtp_server.mailbox.received]
    bad_mail = [b for m in mails for b in inert(m.get_body(("html",)).get_content())]
    clock.advance(minutes=1)
    d = build_digest(db, cfg, clock.now().replace(year=2000), clock.now(), max_posts=10_000)
    bad_digest = inert(d.html)
    print(
        f"\nXSS: {len(payloads)} sanitizer payloads from feedparser-tests; {len(mails)} mails and a digest of "
        f"{d.counts['alerts']} posts ({len(d.html)} bytes) parsed: {len(bad_mail)} + {len(bad_digest)} live "
        "tags/attributes/links"
    )
    assert len(mails) == (len(posts) + 19) // 20
    assert bad_mail == [] and bad_digest == []
    # Shown as text, not dropped silently.
    assert (
        "&lt;script" in d.html
        and "&lt;img" in d.html
        and len(re.findall(r"<mark\b", d.html)) >= len(payloads)
    )
    assert 'href="javascript' not in d.html and "href='javascript" not in d.html
