"""Main-text extraction on real Chinese pages, through the real site path (served on
127.0.0.1, crawled by the spider in its child process, no body selector), compared
with the expected extraction stored beside each page. Prints a table of similarity.

Similarity is rapidfuzz's normalised Indel ratio over the texts with all whitespace
removed (1.0 = identical). goose3's stored text is a partial extraction (it skips
paragraphs), so for it the table shows the share of its paragraphs found in ours.
"""

from __future__ import annotations

import json
import re

from rapidfuzz import fuzz

from crawler.text import html_to_text
from tests.conftest import CORPUS

ARTICLE_MIN = 0.9


def _norm(t: str | None) -> str:
    return re.sub(r"\s+", "", t or "")


def expected_cases() -> list[tuple[str, str, str, str]]:
    """(name, corpus path, expected text, metric)."""
    cases = []
    for n in ("gmw", "qq", "youth"):
        exp = html_to_text((CORPUS / f"readability-zh-pages/{n}/expected.html").read_text("utf-8"))
        cases.append((f"readability {n}", f"readability-zh-pages/{n}/source.html", exp, "ratio"))
    cases.append(
        (
            "newspaper bbc",
            "newspaper-zh/chinese_article.html",
            (CORPUS / "newspaper-zh/chinese_article.expected.txt").read_text("utf-8"),
            "ratio",
        )
    )
    goose = json.loads((CORPUS / "goose3-zh/test_bbc_chinese.json").read_text("utf-8"))
    cases.append(
        (
            "goose3 bbc",
            "goose3-zh/test_bbc_chinese.html",
            goose["expected"]["cleaned_text"],
            "contained",
        )
    )
    text = (CORPUS / "gne-zh-pages/expected-results.txt").read_text("utf-8")
    for m in re.finditer(r">{5,}(\S+?)>{5,}\s*(\{.*?\})\s*<{5,}", text, re.DOTALL):
        cases.append(
            (
                f"gne {m.group(1)}",
                f"gne-zh-pages/{m.group(1)}",
                json.loads(m.group(2))["content"],
                "ratio",
            )
        )
    return cases


# Pages without a stored expected text: extraction must give real text, no mojibake.
UNSCORED = [
    "trafilatura-zh-pages/archive.org.he.xinhuanet.com.25340717.html",
    "trafilatura-zh-pages/xinhuanet.com.c_1125597921.html",
    "trafilatura-zh-pages/banyuetan.org.1000200033136171577956287380194268_1.html",
    *[
        f"gne-zh-pages/tests/{p}"
        for p in (
            "sxmu/1.html",
            "zyyfy/1.html",
            "gsc/1.html",
            "other/1.html",
            "people/1.html",
            "qq/2.html",
            "163/9.html",
            "sina/5.html",
            "ifeng/1.html",
            "thepaper/1.html",
            "baijiahao/4.html",
            "xinhuanet/1.html",
            "cjn/1.html",
        )
    ],
]


def score(got: str, expected: str, metric: str) -> float:
    g, e = _norm(got), _norm(expected)
    if metric == "contained":
        paras = [_norm(p) for p in expected.split("\n") if _norm(p)]
        return sum(p in g for p in paras) / len(paras)
    return fuzz.ratio(g, e) / 100


def test_extracted_body_matches_expected_extraction_per_page(server, collect):
    cases = expected_cases()
    assert len(cases) == 10
    paths = [c[1] for c in cases] + UNSCORED
    urls = {}
    for i, rel in enumerate(paths):
        # No charset in the header: the page's own bytes and meta tag must be enough.
        urls[rel] = server.add(
            f"/p/{i}.html", (CORPUS / rel).read_bytes(), content_type="text/html"
        )
    r = collect(
        {
            "name": "pages",
            "type": "site",
            "urls": list(urls.values()),
            "delay": 0,
            "concurrency": 4,
            "obey_robots": False,
        }
    )
    assert r.ok, r.error
    by_url = {p.snapshot.final_url: p for p in r.posts}
    rows, low = [], []
    for name, rel, expected, metric in cases:
        post = by_url[urls[rel]]
        s = score(post.text, expected, metric)
        rows.append((name, metric, s, len(_norm(post.text)), len(_norm(expected))))
        if s < ARTICLE_MIN:
            low.append((name, s))
    for rel in UNSCORED:
        post = by_url[urls[rel]]
        rows.append((rel.split("/", 1)[1][:40], "no expected", None, len(_norm(post.text)), None))
        assert "\ufffd" not in post.text and post.title, rel
        assert len(re.findall(r"[\u4e00-\u9fff]", post.text)) > 50, (rel, post.text[:200])
    print("\n\nextraction similarity (site path, automatic main text)")
    print(f"{'page':44} {'metric':12} {'score':>6} {'got':>6} {'expected':>8}")
    for name, metric, s, got, exp in rows:
        print(
            f"{name:44} {metric:12} {'' if s is None else f'{s:.3f}':>6} {got:>6} {'' if exp is None else exp:>8}"
        )
    assert low == []


def test_gb2312_archive_page_decodes_despite_injected_utf8_script_tags(server, collect):
    rel = "trafilatura-zh-pages/archive.org.he.xinhuanet.com.25340717.html"
    url = server.add("/gb.html", (CORPUS / rel).read_bytes(), content_type="text/html")
    r = collect({"name": "gb", "type": "site", "urls": [url], "delay": 0, "obey_robots": False})
    [post] = r.posts
    assert post.snapshot.encoding == "gb18030"
    assert "\ufffd" not in post.text
    assert post.title == "话剧《约定无期限》河北各市巡演结束" and "张家口" in post.text
