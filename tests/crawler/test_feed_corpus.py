"""Every feed of feedparser's test suite and chardet's Chinese feeds, served on
127.0.0.1 with the headers their notes give, goes through a poll without a traceback.

The files are read from ../shared/corpus (chardet-zh-feeds is LGPL: never copied here).
"""

from __future__ import annotations

import re
from pathlib import Path

from crawler.encoding import decode
from tests.conftest import CORPUS

FEEDPARSER = CORPUS / "feedparser-tests"
CHARDET = CORPUS / "chardet-zh-feeds"
_HEADER = re.compile(r"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
# Chinese files whose encoding can be known (declared, or detectable with certainty).
KNOWN_CJK = [
    *sorted(p for p in (CHARDET / "GB2312").glob("*.xml") if not p.name.startswith("_")),
    *sorted((CHARDET / "Big5").glob("*.xml")),
    FEEDPARSER / "encoding" / "big5.xml",
    *sorted((FEEDPARSER / "encoding").glob("*gb2312*.xml")),
    FEEDPARSER / "illformed" / "chardet" / "big5.xml",
    FEEDPARSER / "illformed" / "chardet" / "gb2312.xml",
]


def corpus_files() -> list[Path]:
    files = [
        p
        for p in sorted(FEEDPARSER.rglob("*"))
        if p.is_file()
        and p.suffix in (".xml", ".json", ".rdf", ".html", ".txt")
        and not p.name.startswith("LICENSE")
        and p.name != "SOURCE.md"
    ]
    files += [p for p in sorted(CHARDET.rglob("*")) if p.is_file() and p.parent != CHARDET]
    return files


def headers_from_notes(raw: bytes) -> dict[str, str]:
    """The ``Header:`` lines of a test file's comment block (any encoding)."""
    d = decode(raw[:4000])
    text = d.text or raw[:4000].decode("latin-1")
    headers = {}
    for name, value in _HEADER.findall(text):
        headers[name] = value
    return headers


def serve_all(server, files):
    urls = {}
    for i, path in enumerate(files):
        raw = path.read_bytes()
        headers = headers_from_notes(raw)
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        other = {k: v for k, v in headers.items() if k.lower() != "content-type" and v}
        # HTTP headers are Latin-1 on the wire; a note with UTF-8 in it is sent as its bytes.
        other = {k: v.encode("utf-8").decode("latin-1") for k, v in other.items()}
        ctype = ctype.encode("utf-8").decode("latin-1") if ctype else None
        urls[path] = server.add(
            f"/f/{i}/{path.name}",
            raw,
            headers=other,
            content_type=ctype if ctype is not None else "application/xml",
        )
    return urls


def test_every_corpus_feed_polls_without_traceback(server, collect):
    files = corpus_files()
    assert len(files) > 1700
    urls = serve_all(server, files)
    crashes, outcomes = [], {"ok": 0, "bozo": 0, "error": 0}
    for path, url in urls.items():
        try:
            r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
        except Exception as e:
            crashes.append(f"{path.relative_to(CORPUS)}: {type(e).__name__}: {e}")
            continue
        outcomes["error" if r.error else ("bozo" if r.warnings else "ok")] += 1
    print(f"\n{len(files)} feeds polled: {outcomes}")
    assert crashes == []


def test_chinese_feeds_decode_without_replacement_characters(server, collect):
    urls = serve_all(server, KNOWN_CJK)
    bad = []
    for path, url in urls.items():
        r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
        texts = [p.title + p.text + (p.author or "") for p in r.posts]
        if any("\ufffd" in t for t in texts):
            bad.append(str(path.relative_to(CORPUS)))
        if path.is_relative_to(CHARDET):
            assert r.ok and r.posts, (path, r.error)
            assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts), path
            assert r.posts[0].snapshot.encoding in ("gb18030", "big5hkscs")
    assert bad == []


def test_gb2312_declared_feed_is_read_as_gb18030(server, collect):
    [url] = serve_all(server, [CHARDET / "GB2312" / "cnblog.org.xml"]).values()
    r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
    assert r.ok and r.posts[0].snapshot.encoding == "gb18030"


def test_euc_tw_text_is_recorded_undecodable_with_raw_bytes_kept(server, collect):
    path = CHARDET / "EUC-TW" / "_ude_euc-tw1.txt"
    url = server.add("/euc-tw.txt", path.read_bytes(), content_type="text/plain")
    r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
    assert r.error_kind == "decode" and r.posts == []
    [snap] = r.snapshots
    assert snap.body == path.read_bytes()
    assert snap.decode_error and "cannot decode" in snap.decode_error
    assert snap.sha256 and snap.status == 200


def test_http_header_charset_overrides_xml_declaration(server, collect):
    body = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>江西警察学院</title><link>http://a.example/1</link></item></channel></rss>"
    )
    url = server.add("/x.xml", body.encode("gbk"), content_type="application/rss+xml; charset=gbk")
    r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
    assert [p.title for p in r.posts] == ["江西警察学院"]


def test_utf16_feed_without_bom_is_detected(server, collect):
    body = (
        '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>校园通知</title><link>http://a.example/2</link></item></channel></rss>"
    )
    url = server.add("/u.xml", body.encode("utf-16-le"), content_type="application/xml")
    r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
    assert [p.title for p in r.posts] == ["校园通知"]


def test_bozo_feed_is_parsed_as_far_as_it_goes_with_a_warning(server, collect):
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>first &amp; fine</title><link>http://a.example/3</link></item>"
        b"<item><title>broken &nbsp; entity</title><link>http://a.example/4</link></item></channel>"
    )
    url = server.add("/bozo.xml", body, content_type="application/rss+xml")
    r = collect({"name": "t", "type": "feed", "url": url, "delay": 0, "obey_robots": False})
    assert r.ok and r.posts and r.warnings
    assert "订阅源格式有误" in r.warnings[0]
